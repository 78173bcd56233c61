"""Distances between embeddings: one object per metric, each knowing whether bigger means closer.

Every distance computes paired values ``(B,)`` for two aligned batches and a full matrix
``(N, M)`` between two sets, the latter in row chunks so memory stays bounded
(``chunk_size`` rows of the matrix are materialised at a time by the kernel).

Example:
    >>> d = get_distance("euclidean")
    >>> d.pairwise(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
    tensor([5.])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from siamkit.registry import Registry

DISTANCES: Registry[Distance] = Registry("distance")

# Floor under squared distances before a square root: keeps the gradient finite at D = 0.
_SQRT_FLOOR = 1e-12


class Distance:
    """Base class. Subclasses implement ``_paired`` and ``_block``.

    Attributes:
        name: The registered name.
        larger_is_closer: False for distances (smaller = more alike), True for similarities.
    """

    name: str = ""
    larger_is_closer: bool = False

    def pairwise(self, a: Tensor, b: Tensor) -> Tensor:
        """Distance between row i of ``a`` and row i of ``b``.

        Args:
            a: ``(B, D)`` embeddings.
            b: ``(B, D)`` embeddings.

        Returns:
            ``(B,)`` values.
        """
        _check_pair(a, b, aligned=True)
        return self._paired(a, b)

    def matrix(self, a: Tensor, b: Tensor | None = None, chunk_size: int = 4096) -> Tensor:
        """All distances between rows of ``a`` ``(N, D)`` and rows of ``b`` ``(M, D)``.

        Computed ``chunk_size`` rows of ``a`` at a time, so the temporary memory is
        ``O(chunk_size * M)`` on top of the ``(N, M)`` result.

        Returns:
            ``(N, M)`` values (``b`` defaults to ``a``).
        """
        b = a if b is None else b
        _check_pair(a, b, aligned=False)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        blocks = [self._block(a[i : i + chunk_size], b) for i in range(0, a.shape[0], chunk_size)]
        if not blocks:
            return a.new_zeros((0, b.shape[0]))
        return torch.cat(blocks, dim=0)

    def closeness(self, values: Tensor) -> Tensor:
        """Values turned into a score where larger always means closer (for ROC and ranking)."""
        return values if self.larger_is_closer else -values

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_pair(a: Tensor, b: Tensor, aligned: bool) -> None:
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(
            f"distances take 2-D embeddings (N, D); got shapes {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"embedding sizes differ: {a.shape[1]} vs {b.shape[1]}; both inputs must come from "
            "the same model"
        )
    if aligned and a.shape[0] != b.shape[0]:
        raise ValueError(
            f"paired distances need batches of equal length; got {a.shape[0]} and {b.shape[0]}"
        )


# Below this many elements (n·M·D) a block is computed from the differences themselves, which is
# exact for near-duplicates; above it, through a matrix product, which is fast but loses precision
# to cancellation when ||a|| and ||b|| are large compared with ||a - b||.
_DIRECT_LIMIT = 1 << 22


def _squared_euclidean_block(a: Tensor, b: Tensor) -> Tensor:
    if a.shape[0] * b.shape[0] * a.shape[1] <= _DIRECT_LIMIT:
        return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)  # (n, M)
    # ||a||^2 + ||b||^2 - 2 a.b, clamped at 0 against rounding.
    sq = (a * a).sum(1, keepdim=True) + (b * b).sum(1).unsqueeze(0) - 2.0 * (a @ b.T)  # (n, M)
    return sq.clamp_min(0.0)


@DISTANCES.register("squared_euclidean")
class SquaredEuclideanDistance(Distance):
    """``‖a - b‖²``. Smaller is closer."""

    name = "squared_euclidean"

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return ((a - b) ** 2).sum(dim=1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return _squared_euclidean_block(a, b)


@DISTANCES.register("euclidean")
class EuclideanDistance(Distance):
    """``‖a - b‖₂``. Smaller is closer; the gradient stays finite at ``a == b``."""

    name = "euclidean"

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return ((a - b) ** 2).sum(dim=1).clamp_min(_SQRT_FLOOR).sqrt()

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return _squared_euclidean_block(a, b).clamp_min(_SQRT_FLOOR).sqrt()


@DISTANCES.register("manhattan")
class ManhattanDistance(Distance):
    """``‖a - b‖₁``. Smaller is closer."""

    name = "manhattan"

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a - b).abs().sum(dim=1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.cdist(a, b, p=1.0)


@DISTANCES.register("cosine")
class CosineDistance(Distance):
    """``1 - cos(a, b)``, in ``[0, 2]``. Smaller is closer."""

    name = "cosine"

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return 1.0 - F.cosine_similarity(a, b, dim=1, eps=1e-8)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        an = F.normalize(a, dim=1, eps=1e-8)
        bn = F.normalize(b, dim=1, eps=1e-8)
        return 1.0 - an @ bn.T


def get_distance(distance: str | Distance) -> Distance:
    """A distance object from its registered name, or the object itself."""
    if isinstance(distance, Distance):
        return distance
    return DISTANCES.get(distance)()
