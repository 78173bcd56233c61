"""Paired distances in numpy, for comparing embeddings where torch is absent.

The same formulas as :mod:`siamkit.distances` (which is torch-based): ``euclidean``
``‖a - b‖₂``, ``squared_euclidean`` ``‖a - b‖₂²``, ``manhattan`` ``‖a - b‖₁`` and ``cosine``
``1 - cos(a, b)``; all are smaller-is-closer. A learned ``mahalanobis`` metric is folded into
the exported graph, which then declares ``euclidean``.

Example:
    >>> pair_distances(np.zeros((1, 2)), np.array([[3.0, 4.0]]), "euclidean")
    array([5.], dtype=float32)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RUNTIME_DISTANCES = ("cosine", "euclidean", "manhattan", "squared_euclidean")


def pair_distances(a: npt.ArrayLike, b: npt.ArrayLike, distance: str) -> npt.NDArray[np.float32]:
    """Distances ``(B,)`` between rows ``a[i]`` and ``b[i]`` of two ``(B, D)`` arrays.

    Raises:
        ValueError: Unknown distance, or arrays that are not two ``(B, D)`` of one shape.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(
            f"paired distances need two (B, D) arrays of one shape, got {x.shape} and {y.shape}"
        )
    diff = x - y
    if distance == "euclidean":
        d = np.sqrt((diff * diff).sum(axis=1))
    elif distance == "squared_euclidean":
        d = (diff * diff).sum(axis=1)
    elif distance == "manhattan":
        d = np.abs(diff).sum(axis=1)
    elif distance == "cosine":
        nx = np.maximum(np.linalg.norm(x, axis=1), 1e-8)
        ny = np.maximum(np.linalg.norm(y, axis=1), 1e-8)
        d = np.clip(1.0 - (x * y).sum(axis=1) / (nx * ny), 0.0, 2.0)  # rounding stays in range
    else:
        raise ValueError(
            f"unknown distance '{distance}'; choose one of: {', '.join(RUNTIME_DISTANCES)}"
        )
    return d.astype(np.float32)
