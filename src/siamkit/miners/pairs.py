"""Pair miners: hard positive and negative pairs by margin."""

from __future__ import annotations

import torch

from siamkit.miners.base import (
    MINERS,
    MinedPairs,
    MinerStats,
    PairMiner,
    _Batch,
    _far_threshold,
    _nan_if_empty,
)


class HardPairMiner(PairMiner):
    """Positive pairs farther than ``pos_margin`` and negative pairs closer than ``neg_margin``.

    The pairs an "online" contrastive loss learns from (Hadsell, Chopra & LeCun 2006 with
    hard-pair selection); registered as ``hard_pairs`` with ``pos_margin = 0`` and
    ``neg_margin`` = the loss margin. ``O(B²)`` memory.

    Args:
        pos_margin: Positives at or below it are skipped (distance units).
        neg_margin: Negatives at or beyond it are skipped (the contrastive margin).

    Example:
        >>> from siamkit.distances import get_distance
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> a1, p, a2, n, stats = HardPairMiner(0.0, 1.0)(emb, labels, get_distance("euclidean"))
        >>> a1, p  # positive pairs farther than 0
        (tensor([0, 2]), tensor([1, 3]))
        >>> a2, n  # negative pairs closer than 1
        (tensor([0]), tensor([2]))
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
