"""How a registered distance maps onto FAISS, and the same distance in plain numpy.

FAISS knows squared L2, inner product and L1. A gallery answers in the run's own distance units
(those its calibrated threshold is in), so each metric says how to prepare vectors for FAISS and
how to turn FAISS's scores back into that distance:

===================  ===============  ==========================  ======================
distance             FAISS metric     vectors                     distance from score s
===================  ===============  ==========================  ======================
euclidean            L2 (squared)     as they are                 ``sqrt(max(s, 0))``
squared_euclidean    L2 (squared)     as they are                 ``s``
cosine               inner product    L2-normalised               ``1 - s``
manhattan            L1               as they are                 ``s``
===================  ===============  ==========================  ======================

Example:
    >>> m = get_metric("cosine")
    >>> m.pairwise(np.eye(2, dtype=np.float32), [[3.0, 0.0], [1.0, 1.0]]).round(3)  # (2, 2)
    array([[0.   , 0.293],
           [1.   , 0.293]])
    >>> m.from_faiss(m.prepare([[3.0, 0.0]]) @ m.prepare([[1.0, 1.0]]).T).round(3)  # the same
    array([[0.293]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

_EPS = 1e-8  # as torch's cosine_similarity


@dataclass(frozen=True)
class Metric:
    """One distance as a gallery uses it.

    Attributes:
        name: The registered distance name (``siamkit.distances``).
        faiss_metric: ``"l2"``, ``"ip"`` or ``"l1"``.
        normalize: Whether vectors are L2-normalised before FAISS sees them (cosine).
    """

    name: str
    faiss_metric: str
    normalize: bool = False

    def prepare(self, x: npt.ArrayLike) -> F32:
        """Vectors ``(N, D)`` as FAISS should hold them: float32, C-contiguous, maybe normalised."""
        arr = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        if self.normalize:
            norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))  # (N,)
            arr = arr / np.maximum(norms, _EPS)[:, None]
        return arr

    def from_faiss(self, scores: npt.ArrayLike) -> F64:
        """FAISS scores (any shape) -> distances in this metric's units (smaller is closer)."""
        s = np.asarray(scores, dtype=np.float64)
        if self.name == "euclidean":
            return np.sqrt(np.maximum(s, 0.0))
        if self.name == "cosine":
            return 1.0 - s
        return s

    def pairwise(self, a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
        """Distances ``(N, M)`` between rows of ``a`` ``(N, D)`` and ``b`` ``(M, D)``, float64."""
        x = np.asarray(a, dtype=np.float64)
        y = np.asarray(b, dtype=np.float64)
        if self.name == "manhattan":
            return np.abs(x[:, None, :] - y[None, :, :]).sum(axis=2)
        if self.name == "cosine":
            xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)
            yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), _EPS)
            return 1.0 - xn @ yn.T
        sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
        sq = np.maximum(sq, 0.0)
        return np.sqrt(sq) if self.name == "euclidean" else sq


METRICS = {
    "euclidean": Metric("euclidean", "l2"),
    "squared_euclidean": Metric("squared_euclidean", "l2"),
    "cosine": Metric("cosine", "ip", normalize=True),
    "manhattan": Metric("manhattan", "l1"),
}


def get_metric(name: str) -> Metric:
    """The gallery metric for a registered distance name.

    Raises:
        ValueError: A distance FAISS cannot search (e.g. the learned ``mahalanobis``).
    """
    if name not in METRICS:
        raise ValueError(
            f"a gallery cannot search with distance '{name}'; it supports: "
            f"{', '.join(METRICS)} (train the run with one of them)"
        )
    return METRICS[name]
