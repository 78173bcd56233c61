"""Square crops around a target, resampled to a fixed size, as SiamFC takes them.

Bertinetto et al., "Fully-Convolutional Siamese Networks for Object Tracking", ECCV-W 2016:
the exemplar is the target box padded by a context margin ``p = (w + h) / 4`` on every side and
made square, ``s_z = sqrt((w + 2p)(h + 2p))``; the search region is the same square scaled by
``search_size / exemplar_size``. Parts of a crop outside the frame take the frame's mean colour.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB -> ``(3, H, W)`` float32 in [0, 1]."""
    return torch.tensor(frame, dtype=torch.float32).permute(2, 0, 1) / 255.0


def context_size(width: float, height: float, context: float = 0.5) -> float:
    """Side ``s_z`` of the square exemplar region of a ``width x height`` target.

    Example:
        >>> context_size(20, 20)  # 20 + 2 * 10 on each side
        40.0
    """
    pad = context * (width + height)
    return math.sqrt((width + pad) * (height + pad))


def crop(
    frame: torch.Tensor,
    centre: tuple[float, float],
    sizes: list[float] | torch.Tensor,
    out: int,
    fill: torch.Tensor | None = None,
) -> torch.Tensor:
    """Crop squares of side ``sizes`` (frame pixels) centred on ``centre``, resampled to ``out``.

    Args:
        frame: ``(3, H, W)`` float image.
        centre: ``(cx, cy)`` in continuous pixel coordinates (pixel ``i`` covers ``[i, i+1)``).
        sizes: ``S`` square sides in frame pixels.
        out: Output side in pixels.
        fill: ``(3,)`` colour outside the frame; default the frame's mean colour.

    Returns:
        ``(S, 3, out, out)`` bilinear crops. A crop with ``size == out`` at an integer-plus-half
        centre copies pixels exactly.

    Example:
        >>> crop(torch.rand(3, 100, 100), (50.0, 50.0), [63.0], 63).shape
        torch.Size([1, 3, 63, 63])
    """
    _, H, W = frame.shape
    sz = torch.as_tensor(sizes, dtype=torch.float32).reshape(-1)  # (S,)
    fill = frame.mean(dim=(1, 2)) if fill is None else fill
    steps = torch.arange(out, dtype=torch.float32) + 0.5 - out / 2  # (out,)
    xs = centre[0] + steps[None, :] * sz[:, None] / out  # (S, out) continuous x
    ys = centre[1] + steps[None, :] * sz[:, None] / out  # (S, out)
    gx = 2 * xs / W - 1  # grid_sample's align_corners=False convention
    gy = 2 * ys / H - 1
    grid = torch.stack(
        [gx[:, None, :].expand(-1, out, -1), gy[:, :, None].expand(-1, -1, out)], dim=-1
    )  # (S, out, out, 2)
    shifted = (frame - fill[:, None, None])[None].expand(len(sz), -1, -1, -1)
    patches = F.grid_sample(
        shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return patches + fill[None, :, None, None]
