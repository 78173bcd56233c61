"""Triplet miners over one batch's distance matrix: batch-hard and semi-hard."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from siamkit.miners.base import (
    MINERS,
    TripletMiner,
    _Batch,
)


@MINERS.register("batch_hard")
class BatchHardMiner(TripletMiner):
    """Per anchor, its farthest positive and its closest negative: one triplet per anchor.

    Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification",
    2017. Anchors without a positive or without a negative are skipped. ``O(B²)`` memory.

    Example:
        >>> from siamkit.distances import get_distance
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> a, p, n, stats = BatchHardMiner(margin=0.2)(emb, labels, get_distance("euclidean"))
        >>> a, p, n
        (tensor([0, 1, 2, 3]), tensor([1, 0, 3, 2]), tensor([2, 2, 0, 0]))
        >>> stats.num_mined, stats.fraction_active
        (4, 0.75)
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
        >>> from siamkit.distances import get_distance
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> a, p, n, stats = SemiHardMiner(margin=0.2)(emb, labels, get_distance("euclidean"))
        >>> a, p, n  # d(1,0) = 1 < d(1,2) = 1.118 < 1 + 0.2
        (tensor([1]), tensor([0]), tensor([2]))
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
