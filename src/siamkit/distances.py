"""Distances between embeddings: one object per metric, each knowing whether bigger means closer.

Every distance computes paired values ``(B,)`` for two aligned batches and a full matrix
``(N, M)`` between two sets, the latter in row chunks so memory stays bounded
(``chunk_size`` rows of the matrix are materialised at a time by the kernel).

Most distances are parameter-free; a *learned* one (``learned = True``, e.g. ``mahalanobis``)
is also an ``nn.Module`` whose parameters train with the encoder, and is built from its name
with the embedding size: ``get_distance("mahalanobis", dim=64)``.

Example:
    >>> d = get_distance("euclidean")
    >>> d.pairwise(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
    tensor([5.])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.registry import Registry

DISTANCES: Registry[Distance] = Registry("distance")

# Floor under squared distances before a square root: keeps the gradient finite at D = 0.
_SQRT_FLOOR = 1e-12


class Distance:
    """Base class. Subclasses implement ``_paired`` and ``_block``.

    Attributes:
        name: The registered name.
        larger_is_closer: False for distances (smaller = more alike), True for similarities.
        learned: True when the distance has trainable parameters (it is then also an
            ``nn.Module`` that the trainer must optimise and save with the model).
    """

    name: str = ""
    larger_is_closer: bool = False
    learned: bool = False

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

    # Rounding can put cos(a, a) a hair above 1 (1 - cos = -2e-16 for a = [0, 0, 3, 3]); the
    # clamp keeps the documented range, so a distance is never negative.

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (1.0 - F.cosine_similarity(a, b, dim=1, eps=1e-8)).clamp(0.0, 2.0)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        an = F.normalize(a, dim=1, eps=1e-8)
        bn = F.normalize(b, dim=1, eps=1e-8)
        return (1.0 - an @ bn.T).clamp(0.0, 2.0)


@DISTANCES.register("mahalanobis")
class MahalanobisDistance(nn.Module, Distance):
    """Learned Mahalanobis distance ``‖L(a - b)‖₂ = sqrt((a - b)ᵀ M (a - b))`` with ``M = LᵀL``.

    ``L`` is a trainable ``(rank, dim)`` matrix, so ``M`` is positive semi-definite by
    construction (and of rank at most ``rank``: a low-rank metric when ``rank < dim``). ``L``
    starts as the identity (its first ``rank`` rows when ``rank < dim``), so the distance starts
    as the Euclidean one (restricted to the first ``rank`` coordinates). Smaller is closer.

    It is both a :class:`Distance` and an ``nn.Module``: stored as ``self.distance`` in a
    :class:`~siamkit.models.SiameseNetwork` its parameter ``L`` is in the network's
    ``parameters()`` and ``state_dict()`` and moves with ``.to(device)``. Inputs of another
    floating dtype are compared with ``L`` cast to their dtype (gradients still reach ``L``).

    Xing et al., "Distance Metric Learning, with Application to Clustering with
    Side-Information", NeurIPS 2002; Weinberger & Saul, "Distance Metric Learning for Large
    Margin Nearest Neighbor Classification", JMLR 2009 (the ``M = LᵀL`` parametrisation).

    Args:
        dim: Embedding size ``D``.
        rank: Rows of ``L`` (``1 <= rank <= dim``); ``None`` means ``dim`` (a full-rank metric).

    Attributes:
        weight: The ``(rank, dim)`` matrix ``L``.

    Example:
        >>> d = MahalanobisDistance(2)
        >>> d.pairwise(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
        tensor([5.], grad_fn=<SqrtBackward0>)
    """

    name = "mahalanobis"
    larger_is_closer = False
    learned = True

    def __init__(self, dim: int, rank: int | None = None) -> None:
        super().__init__()  # nn.Module.__init__; Distance holds no state of its own
        rank = dim if rank is None else rank
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(
                f"MahalanobisDistance needs the embedding size as a positive int, got {dim!r}"
            )
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= dim:
            raise ValueError(
                f"rank must be an int in 1..{dim} (the embedding size), got {rank!r}; "
                "leave it as None for a full-rank metric"
            )
        self.dim = dim
        self.rank = rank
        self.weight = nn.Parameter(torch.eye(rank, dim))  # (rank, dim) = L

    @property
    def metric(self) -> Tensor:
        """The positive semi-definite matrix ``M = LᵀL``, ``(dim, dim)``."""
        return self.weight.T @ self.weight

    def project(self, x: Tensor) -> Tensor:
        """Embeddings ``(N, dim)`` mapped by ``L`` to ``(N, rank)``; Euclidean there = ours here."""
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"this mahalanobis distance was built for {self.dim}-D embeddings, got shape "
                f"{tuple(x.shape)}; build it with the encoder's embedding size"
            )
        return F.linear(x, self.weight.to(x.dtype))  # (N, rank)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Same as :meth:`pairwise`: ``(B, dim)`` and ``(B, dim)`` -> ``(B,)``."""
        return self.pairwise(a, b)

    def matrix(self, a: Tensor, b: Tensor | None = None, chunk_size: int = 4096) -> Tensor:
        """All distances between rows of ``a`` ``(N, dim)`` and rows of ``b`` ``(M, dim)``.

        Both sets are projected by ``L`` once, then compared with the chunked Euclidean
        matrix, so the temporary memory is ``O(chunk_size * M)`` on top of the result.

        Returns:
            ``(N, M)`` values (``b`` defaults to ``a``).
        """
        _check_pair(a, a if b is None else b, aligned=False)
        pa = self.project(a)  # (N, rank)
        pb = None if b is None or b is a else self.project(b)  # (M, rank)
        return _EUCLIDEAN.matrix(pa, pb, chunk_size=chunk_size)

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return self.project(a - b).pow(2).sum(dim=1).clamp_min(_SQRT_FLOOR).sqrt()  # (B,)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        sq = _squared_euclidean_block(self.project(a), self.project(b))  # (n, M)
        return sq.clamp_min(_SQRT_FLOOR).sqrt()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, rank={self.rank}"


_EUCLIDEAN = EuclideanDistance()


def get_distance(distance: str | Distance, dim: int | None = None) -> Distance:
    """A distance object from its registered name, or the object itself.

    Args:
        distance: A registered name (see ``DISTANCES.names()``) or a :class:`Distance`.
        dim: Embedding size ``D``. Needed to build a learned distance (``mahalanobis``) from
            its name; ignored by the parameter-free ones, so callers may always pass it.

    Returns:
        A fresh instance for a name (a learned one starts untrained), or ``distance`` itself.

    Raises:
        ValueError: Unknown name, a learned distance named without ``dim``, or a learned
            distance object whose embedding size differs from ``dim``.

    Example:
        >>> get_distance("cosine").name
        'cosine'
        >>> get_distance("mahalanobis", dim=64).weight.shape
        torch.Size([64, 64])
    """
    if isinstance(distance, Distance):
        own = getattr(distance, "dim", None)
        if distance.learned and dim is not None and own is not None and own != dim:
            raise ValueError(
                f"distance '{distance.name}' was built for {own}-D embeddings but dim={dim} "
                "was given; build it with the encoder's embedding size"
            )
        return distance
    factory = DISTANCES.get(distance)
    if is_learned(distance):
        if dim is None:
            raise ValueError(
                f"distance '{distance}' is learned and needs the embedding size: "
                f"call get_distance('{distance}', dim=D) with the encoder's output size D"
            )
        return factory(dim)
    return factory()


def is_learned(distance: str | Distance) -> bool:
    """True when ``distance`` (a registered name or an object) has trainable parameters.

    Lets callers that build every registered distance (e.g. the evaluation's distance table)
    skip the learned ones without instantiating them.

    Example:
        >>> [n for n in DISTANCES.names() if not is_learned(n)]
        ['cosine', 'euclidean', 'manhattan', 'squared_euclidean']
    """
    if isinstance(distance, Distance):
        return distance.learned
    return bool(getattr(DISTANCES.get(distance), "learned", False))
