"""Miners: which pairs and triplets of a labelled batch are worth learning from.

A miner reads one ``(B, B)`` distance matrix of a batch (``O(B²)`` memory, never a
``(B, B, B)`` tensor) and returns index tensors into the batch, with a :class:`MinerStats`
summary for the progress bar and the log. Pair miners feed a contrastive loss, triplet
miners a triplet loss. The distance object decides what "closer" means, so every miner
works with distances (smaller = closer) and similarities (larger = closer) alike; margins
and thresholds are in the distance's own units.

False-negative guard (every miner): an item is never its own positive, and two items are
never a negative pair when they share a label or are marked identical in ``inputs_equal``.

Example:
    >>> miner = get_miner("batch_hard")
    >>> a, p, n, stats = miner(torch.randn(8, 4), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]),
    ...                        get_distance("euclidean"))
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

from siamkit.distances import Distance, EuclideanDistance
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
    return float(_far(distance, torch.tensor(float(threshold))))


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


@MINERS.register("batch_hard")
class BatchHardMiner(TripletMiner):
    """Per anchor, its farthest positive and its closest negative: one triplet per anchor.

    Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification",
    2017. Anchors without a positive or without a negative are skipped. ``O(B²)`` memory.

    Example:
        >>> a, p, n, stats = BatchHardMiner(margin=0.2)(emb, labels, get_distance("euclidean"))
    """

    name = "batch_hard"

    def _mine(self, batch: _Batch) -> tuple[Tensor, Tensor, Tensor]:
        pos, neg = batch.rel
        hardest_pos = batch.far.masked_fill(~pos, -math.inf).argmax(dim=1)  # (B,)
        hardest_neg = batch.far.masked_fill(~neg, math.inf).argmin(dim=1)  # (B,)
        anchors = torch.nonzero(pos.any(dim=1) & neg.any(dim=1)).flatten()  # (T,)
        return anchors, hardest_pos[anchors], hardest_neg[anchors]


@MINERS.register("semi_hard")
class SemiHardMiner(TripletMiner):
    """Per (anchor, positive), the closest negative with ``d(a,p) < d(a,n) < d(a,p) + m``.

    Schroff, Kalenichenko & Philbin, "FaceNet", CVPR 2015. Pairs without such a negative
    are skipped. Each anchor row of negatives is sorted once and every positive is looked
    up with ``searchsorted``, so memory is ``O(B²)``.

    Args:
        margin: ``m`` (> 0; with 0 no negative could qualify).

    Example:
        >>> a, p, n, stats = SemiHardMiner(margin=0.2)(emb, labels, get_distance("euclidean"))
    """

    name = "semi_hard"

    def __init__(self, margin: float = 1.0) -> None:
        if margin <= 0:
            raise ValueError(
                f"semi_hard mining needs margin > 0 (it keeps negatives inside the margin), got "
                f"{margin}; use batch_hard for margin 0"
            )
        super().__init__(margin)

    def _mine(self, batch: _Batch) -> tuple[Tensor, Tensor, Tensor]:
        far, (pos, neg) = batch.far, batch.rel
        b = far.shape[0]
        sorted_neg, order = far.masked_fill(~neg, math.inf).sort(dim=1)  # (B, B) per anchor
        # first negative strictly farther than each (anchor, positive): sorted[i-1] <= v < sorted[i]
        first = torch.searchsorted(sorted_neg, far.contiguous(), right=True)  # (B, B)
        found = first < b
        first.clamp_(max=b - 1)
        ok = pos & found & (sorted_neg.gather(1, first) < far + self.margin)  # (B, B)
        a, p = torch.nonzero(ok, as_tuple=True)  # (T,) each
        return a, p, order[a, first[a, p]]


class HardPairMiner(PairMiner):
    """Positive pairs farther than ``pos_margin`` and negative pairs closer than ``neg_margin``.

    The pairs an "online" contrastive loss learns from (Hadsell, Chopra & LeCun 2006 with
    hard-pair selection); registered as ``hard_pairs`` with ``pos_margin = 0`` and
    ``neg_margin`` = the loss margin. ``O(B²)`` memory.

    Args:
        pos_margin: Positives at or below it are skipped (distance units).
        neg_margin: Negatives at or beyond it are skipped (the contrastive margin).

    Example:
        >>> a1, p, a2, n, stats = HardPairMiner(0.0, 1.0)(emb, labels, get_distance("euclidean"))
    """

    name = "hard_pairs"

    def __init__(self, pos_margin: float = 0.0, neg_margin: float = 1.0) -> None:
        self.pos_margin = float(pos_margin)
        self.neg_margin = float(neg_margin)

    def _mine(self, batch: _Batch) -> MinedPairs:
        far, (pos, neg), distance = batch.far, batch.rel, batch.distance
        upper = torch.ones_like(pos).triu_(diagonal=1)  # (B, B) pairs i < j
        hard_pos = pos & upper & (far > _far_threshold(distance, self.pos_margin))
        hard_neg = neg & upper & (far < _far_threshold(distance, self.neg_margin))
        a1, p = torch.nonzero(hard_pos, as_tuple=True)
        a2, n = torch.nonzero(hard_neg, as_tuple=True)
        # every mined pair violates its margin by construction
        stats = MinerStats(
            num_mined=int(a1.numel() + a2.numel()),
            fraction_active=1.0 if a1.numel() + a2.numel() else 0.0,
            mean_pos_distance=_nan_if_empty(batch.values[a1, p]),
            mean_neg_distance=_nan_if_empty(batch.values[a2, n]),
        )
        return MinedPairs(a1, p, a2, n, stats)

    def __repr__(self) -> str:
        return f"HardPairMiner(pos_margin={self.pos_margin}, neg_margin={self.neg_margin})"


@MINERS.register("hard_pairs")
def hard_pairs(margin: float = 1.0) -> HardPairMiner:
    """The ``hard_pairs`` miner for a contrastive loss of margin ``margin``: every positive
    pair at a distance above 0, every negative pair inside the margin."""
    return HardPairMiner(pos_margin=0.0, neg_margin=margin)


@MINERS.register("distance_weighted")
class DistanceWeightedMiner(TripletMiner):
    """One negative per anchor, drawn with probability ``∝ 1/q(d)``; all its positives.

    Wu, Manmatha, Smola & Krähenbühl, "Sampling Matters in Deep Embedding Learning",
    ICCV 2017. For unit vectors in ``n`` dimensions, pairwise distances have density
    ``q(d) ∝ d^(n-2) (1 - d²/4)^((n-3)/2)``; weighting by its inverse spreads the sampled
    negatives evenly over distances. ``d`` is clamped at ``cutoff`` (bounding the weights
    of near neighbours, which are mostly noise), and negatives at ``d >= nonzero_loss_cutoff``
    get weight 0 (they would add no loss). Weights are computed in log space.

    The weights describe the unit sphere, so they are computed from Euclidean distances of
    L2-normalised embeddings whatever ``distance`` is; the stats and the loss use
    ``distance``. For the method as published, train on normalised embeddings with the
    Euclidean distance. Anchors with no positive or no negative below the cutoff are skipped.

    Args:
        margin: ``m`` (for the stats).
        cutoff: Lower clamp on ``d`` for the weights.
        nonzero_loss_cutoff: Negatives this far or farther are never drawn.
        generator: Seeds the draws (``torch.Generator``); the global RNG when None.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> a, p, n, stats = DistanceWeightedMiner(0.2, generator=g)(emb, labels, distance)
    """

    name = "distance_weighted"

    def __init__(
        self,
        margin: float = 1.0,
        cutoff: float = 0.5,
        nonzero_loss_cutoff: float = 1.4,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(margin)
        if not 0 < cutoff < nonzero_loss_cutoff:
            raise ValueError(
                f"need 0 < cutoff < nonzero_loss_cutoff, got cutoff={cutoff} and "
                f"nonzero_loss_cutoff={nonzero_loss_cutoff} (the paper uses 0.5 and 1.4)"
            )
        self.cutoff = float(cutoff)
        self.nonzero_loss_cutoff = float(nonzero_loss_cutoff)
        self.generator = generator

    def log_weights(self, embeddings: Tensor, negative: Tensor) -> Tensor:
        """Unnormalised log sampling weights ``-log q(d)``, -inf where no draw is allowed.

        Args:
            embeddings: ``(B, D)``; normalised here.
            negative: ``(B, B)`` bool, which pairs are negatives.

        Returns:
            ``(B, B)`` log weights, row = anchor.
        """
        x = F.normalize(embeddings.detach(), dim=1)
        dim = x.shape[1]
        d = EuclideanDistance().matrix(x)  # (B, B), in [0, 2]
        dc = d.clamp_min(self.cutoff)
        log_q = (dim - 2) * dc.log() + (dim - 3) / 2 * (1 - dc.pow(2) / 4).clamp_min(1e-12).log()
        return (-log_q).masked_fill(~negative | (d >= self.nonzero_loss_cutoff), -math.inf)

    def probabilities(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """The probability of drawing each negative for each anchor.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)``.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs.

        Returns:
            ``(B, B)``; each row sums to 1, or is all 0 where the anchor has no candidate.
        """
        neg = relations(labels.to(embeddings.device), inputs_equal).negative
        log_w = self.log_weights(embeddings, neg)  # (B, B)
        weights = _exp_shifted(log_w)  # (B, B)
        total = weights.sum(dim=1, keepdim=True)  # (B, 1)
        return weights / total.masked_fill(total == 0, 1.0)

    def _mine(self, batch: _Batch) -> tuple[Tensor, Tensor, Tensor]:
        pos, neg = batch.rel
        log_w = self.log_weights(batch.embeddings, neg)  # (B, B)
        rows = torch.nonzero(torch.isfinite(log_w).any(dim=1) & pos.any(dim=1)).flatten()
        drawn = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)  # (B,)
        if rows.numel():
            weights = _exp_shifted(log_w[rows])  # (R, B), unnormalised
            g = self.generator
            if g is not None and g.device != weights.device:
                weights = weights.to(g.device)
            drawn[rows] = torch.multinomial(weights, 1, generator=g).flatten().to(pos.device)
        keep = torch.zeros_like(pos[0])
        keep[rows] = True
        a, p = torch.nonzero(pos & keep.unsqueeze(1), as_tuple=True)  # every positive
        return a, p, drawn[a]

    def __repr__(self) -> str:
        return (
            f"DistanceWeightedMiner(margin={self.margin}, cutoff={self.cutoff}, "
            f"nonzero_loss_cutoff={self.nonzero_loss_cutoff})"
        )


def _exp_shifted(log_w: Tensor) -> Tensor:
    """``exp(log_w - rowmax)``: weights up to a factor per row, 0 in rows all -inf."""
    top = log_w.amax(dim=1, keepdim=True)  # (R, 1)
    return (log_w - top.masked_fill(~torch.isfinite(top), 0.0)).exp()


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
