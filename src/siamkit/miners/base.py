"""The miners' common ground: what they return, the batch relations they share, the base
classes and the registry of miner names."""

from __future__ import annotations

import math
from typing import NamedTuple, TypeVar

import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.registry import Registry


class MinerStats(NamedTuple):
    """What a miner found in one batch, for the progress bar and the training log.

    Attributes:
        num_mined: Pairs (pair miners) or triplets (triplet miners) returned.
        fraction_active: Share of them violating their margin: for triplets
            ``d(a,p) - d(a,n) + margin > 0``; for pairs, positives farther than ``pos_margin``
            and negatives closer than ``neg_margin``. 0.0 when nothing was mined.
        mean_pos_distance: Mean ``d(anchor, positive)`` over the mined pairs or triplets
            (NaN when there is none).
        mean_neg_distance: Mean ``d(anchor, negative)`` likewise (NaN when there is none).
    """

    num_mined: int
    fraction_active: float
    mean_pos_distance: float
    mean_neg_distance: float


class MinedTriplets(NamedTuple):
    """Triplets ``(anchor[k], positive[k], negative[k])`` as ``(T,)`` long tensors."""

    anchor: Tensor
    positive: Tensor
    negative: Tensor
    stats: MinerStats


class MinedPairs(NamedTuple):
    """Positive pairs ``(pos_anchor[k], positive[k])`` ``(P,)`` and negative pairs
    ``(neg_anchor[k], negative[k])`` ``(N,)``, each with first index < second."""

    pos_anchor: Tensor
    positive: Tensor
    neg_anchor: Tensor
    negative: Tensor
    stats: MinerStats


class Relations(NamedTuple):
    """Which items of a batch may be paired: ``(B, B)`` bool masks."""

    positive: Tensor  # same label, i != j
    negative: Tensor  # different label and not marked identical


def relations(labels: Tensor, inputs_equal: Tensor | None = None) -> Relations:
    """Positive and negative masks of a batch, with the false-negative guard applied.

    Args:
        labels: ``(B,)`` class labels.
        inputs_equal: Optional ``(B, B)`` bool, True where two items are the same input (a
            duplicate in the data, or the same item drawn twice); treated as symmetric.

    Returns:
        ``positive[i, j]``: same label and ``i != j``; ``negative[i, j]``: labels differ and
        the inputs are not marked identical.
    """
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D (B,); got shape {tuple(labels.shape)}")
    b = labels.shape[0]
    same = labels.unsqueeze(0) == labels.unsqueeze(1)  # (B, B)
    eye = torch.eye(b, dtype=torch.bool, device=labels.device)
    negative = ~same
    if inputs_equal is not None:
        if inputs_equal.shape != (b, b) or inputs_equal.dtype != torch.bool:
            raise ValueError(
                f"inputs_equal must be a ({b}, {b}) bool tensor marking identical inputs; got "
                f"shape {tuple(inputs_equal.shape)} and dtype {inputs_equal.dtype}; build it "
                "e.g. as item_ids[:, None] == item_ids[None, :]"
            )
        equal = inputs_equal.to(labels.device)
        negative &= ~(equal | equal.T)
    return Relations(positive=same & ~eye, negative=negative)


class _Batch(NamedTuple):
    """A batch as the miners see it, all detached."""

    embeddings: Tensor  # (B, D)
    values: Tensor  # (B, B) distance values as the distance computes them
    far: Tensor  # (B, B) "farness": larger = farther, whatever the distance
    rel: Relations
    distance: Distance


def _far(distance: Distance, values: Tensor) -> Tensor:
    """Values mapped so that larger always means farther (distances unchanged)."""
    return -distance.closeness(values)


def _far_threshold(distance: Distance, threshold: float) -> float:
    # float64: a float32 tensor would round the margin (1e-40 became 0, 0.1 became 0.10000000149)
    return float(_far(distance, torch.tensor(float(threshold), dtype=torch.float64)))


def _prepare(
    embeddings: Tensor,
    labels: Tensor,
    distance: Distance,
    inputs_equal: Tensor | None,
    matrix: Tensor | None,
) -> _Batch:
    if embeddings.dim() != 2:
        raise ValueError(f"miners take embeddings (B, D); got shape {tuple(embeddings.shape)}")
    b = embeddings.shape[0]
    if labels.shape != (b,):
        raise ValueError(
            f"labels must be ({b},) to match embeddings {tuple(embeddings.shape)}; got shape "
            f"{tuple(labels.shape)}"
        )
    x = embeddings.detach()
    if matrix is None:
        values = distance.matrix(x)  # (B, B)
    elif matrix.shape != (b, b):
        raise ValueError(
            f"matrix must be distance.matrix(embeddings), shape ({b}, {b}); got "
            f"{tuple(matrix.shape)}"
        )
    else:
        values = matrix.detach()
    rel = relations(labels.to(x.device), inputs_equal)
    return _Batch(x, values, _far(distance, values), rel, distance)


def _nan_if_empty(values: Tensor) -> float:
    return float(values.mean()) if values.numel() else math.nan


def _triplet_stats(batch: _Batch, a: Tensor, p: Tensor, n: Tensor, margin: float) -> MinerStats:
    slack = batch.far[a, p] - batch.far[a, n] + margin  # (T,)
    return MinerStats(
        num_mined=int(a.numel()),
        fraction_active=int((slack > 0).sum()) / a.numel() if a.numel() else 0.0,
        mean_pos_distance=_nan_if_empty(batch.values[a, p]),
        mean_neg_distance=_nan_if_empty(batch.values[a, n]),
    )


class Miner:
    """Base class of all miners; use :class:`PairMiner` or :class:`TripletMiner`.

    Attributes:
        name: The registered name.
        kind: ``"pair"`` or ``"triplet"``: which losses can use it.
    """

    name: str = ""
    kind: str = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TripletMiner(Miner):
    """A miner returning triplets ``(a, p, n)`` for a triplet loss.

    Args:
        margin: The triplet margin ``m``, in the distance's units (stats, and semi-hard mining).
    """

    kind = "triplet"

    def __init__(self, margin: float = 1.0) -> None:
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.margin = float(margin)

    def __call__(
        self,
        embeddings: Tensor,
        labels: Tensor,
        distance: Distance,
        inputs_equal: Tensor | None = None,
        *,
        matrix: Tensor | None = None,
    ) -> MinedTriplets:
        """Mine triplets of a batch.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
            distance: How embeddings are compared; it says which way is closer.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs (never negatives).
            matrix: ``distance.matrix(embeddings)`` ``(B, B)`` when already computed.

        Returns:
            :class:`MinedTriplets`, ``(T,)`` indices each, with stats.
        """
        with torch.no_grad():
            batch = _prepare(embeddings, labels, distance, inputs_equal, matrix)
            a, p, n = self._mine(batch)
            return MinedTriplets(a, p, n, _triplet_stats(batch, a, p, n, self.margin))

    def _mine(self, batch: _Batch) -> tuple[Tensor, Tensor, Tensor]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(margin={self.margin})"


class PairMiner(Miner):
    """A miner returning positive and negative pairs for a contrastive loss."""

    kind = "pair"

    def __call__(
        self,
        embeddings: Tensor,
        labels: Tensor,
        distance: Distance,
        inputs_equal: Tensor | None = None,
        *,
        matrix: Tensor | None = None,
    ) -> MinedPairs:
        """Mine pairs ``i < j`` of a batch.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
            distance: How embeddings are compared; it says which way is closer.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs (never negatives).
            matrix: ``distance.matrix(embeddings)`` ``(B, B)`` when already computed.

        Returns:
            :class:`MinedPairs` with stats.
        """
        with torch.no_grad():
            batch = _prepare(embeddings, labels, distance, inputs_equal, matrix)
            return self._mine(batch)

    def _mine(self, batch: _Batch) -> MinedPairs:
        raise NotImplementedError


MINERS: Registry[Miner] = Registry("miner")


M = TypeVar("M", bound=Miner)


def miner_names(kind: type[Miner] = Miner) -> list[str]:
    """Registered miner names, only those of ``kind`` (e.g. ``TripletMiner``) if given."""
    return [name for name in MINERS.names() if isinstance(MINERS.get(name)(), kind)]


def get_miner(miner: str | Miner | None, margin: float = 1.0) -> Miner | None:
    """A miner from its registered name (built for a loss of margin ``margin``), the object
    itself, or None (no mining).

    Example:
        >>> get_miner("semi_hard", margin=0.2)
        SemiHardMiner(margin=0.2)
    """
    if miner is None or isinstance(miner, Miner):
        return miner
    if not isinstance(miner, str):
        raise TypeError(
            f"a miner is a registered name, a Miner object or None; got {type(miner).__name__}; "
            f"choose one of: {', '.join(MINERS.names())}"
        )
    return MINERS.get(miner)(margin=margin)


def resolve_miner(miner: str | Miner | None, kind: type[M], margin: float, owner: str) -> M | None:
    """:func:`get_miner`, checking that the miner is of ``kind`` for the loss ``owner``.

    Raises:
        ValueError: The miner is of the other kind; the message names the valid miners.
    """
    got = get_miner(miner, margin)
    if got is None or isinstance(got, kind):
        return got
    raise ValueError(
        f"{owner} takes a {kind.kind} miner; got '{got.name}', a {got.kind} miner; choose one "
        f"of: {', '.join(miner_names(kind))}"
    )
