"""Axis-aligned boxes ``(x, y, w, h)``: top-left corner, width, height, in continuous pixels.

A pixel ``(col, row)`` covers ``[col, col + 1) x [row, row + 1)``, so a box that exactly covers
pixel columns ``x0..x1`` has ``x = x0`` and ``w = x1 - x0 + 1``. This is the OTB layout.
"""

from __future__ import annotations

import numpy as np


def as_boxes(boxes: np.ndarray | list[list[float]] | list[float]) -> np.ndarray:
    """Boxes as a float64 array ``(N, 4)`` (one box ``(4,)`` becomes ``(1, 4)``).

    Raises:
        ValueError: The input does not hold 4 numbers per box.
    """
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) x, y, w, h; got shape {arr.shape}")
    return arr


def centres(boxes: np.ndarray) -> np.ndarray:
    """Box centres ``(N, 2)`` as ``(cx, cy)``."""
    b = as_boxes(boxes)
    return b[:, :2] + b[:, 2:] / 2.0


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of paired boxes.

    Args:
        a: ``(N, 4)`` boxes.
        b: ``(N, 4)`` boxes.

    Returns:
        ``(N,)`` IoU in ``[0, 1]``; 0 where the union is empty.

    Example:
        >>> iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 2, 2]]))
        array([0.33333333])
    """
    a, b = as_boxes(a), as_boxes(b)
    if a.shape != b.shape:
        raise ValueError(f"iou needs paired boxes of one shape; got {a.shape} and {b.shape}")
    aw, ah = np.clip(a[:, 2], 0, None), np.clip(a[:, 3], 0, None)
    bw, bh = np.clip(b[:, 2], 0, None), np.clip(b[:, 3], 0, None)
    ix = np.clip(np.minimum(a[:, 0] + aw, b[:, 0] + bw) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, 1] + ah, b[:, 1] + bh) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def centre_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance ``(N,)`` in pixels between the centres of paired boxes."""
    return np.linalg.norm(centres(a) - centres(b), axis=1)


def parse_box(text: str) -> tuple[float, float, float, float]:
    """Parse ``"x,y,w,h"`` (commas, tabs or spaces) into a box with positive size.

    Raises:
        ValueError: Not four numbers, or a width/height that is not positive.
    """
    parts = text.replace(",", " ").replace("\t", " ").split()
    try:
        x, y, w, h = (float(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"a box is four numbers x,y,w,h (top-left corner, width, height), got {text!r}"
        ) from None
    if w <= 0 or h <= 0:
        raise ValueError(f"box {text!r} needs a positive width and height")
    return x, y, w, h
