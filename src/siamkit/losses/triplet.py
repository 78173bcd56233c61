"""Triplet loss (Schroff, Kalenichenko & Philbin, FaceNet, CVPR 2015).

``L = max(‖f(A)-f(P)‖² - ‖f(A)-f(N)‖² + m, 0)``: the anchor must be closer to the positive
than to the negative by at least ``m``. The distance defaults to squared Euclidean, as written.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce


@LOSSES.register("triplet")
class TripletLoss(nn.Module):
    """Triplet loss over explicit triplets or every valid triplet of a labelled batch.

    Args:
        margin: ``m``.
        distance: defaults to ``squared_euclidean`` (the formula above).
        reduction: ``mean`` | ``sum`` | ``none``.
        anchor_chunk: anchors processed at a time in batch mode; memory is
            ``O(anchor_chunk · B²)``.

    Example:
        >>> loss = TripletLoss(margin=1.0)
        >>> a, p, n = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
        >>> loss.triplet_loss(a, p, n)  # 1 - 1 + 1
        tensor(1.)
    """

    def __init__(
        self,
        margin: float = 1.0,
        distance: str | Distance = "squared_euclidean",
        reduction: str = "mean",
        anchor_chunk: int = 64,
    ) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        check_reduction(reduction)
        self.margin = float(margin)
        self.distance = get_distance(distance)
        self.reduction = reduction
        self.anchor_chunk = anchor_chunk

    def triplet_loss(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """Loss over aligned triplets, each ``(B, D)``."""
        d_ap = self.distance.pairwise(anchor, positive)  # (B,)
        d_an = self.distance.pairwise(anchor, negative)  # (B,)
        terms = torch.clamp(d_ap - d_an + self.margin, min=0.0)
        return reduce(terms, self.reduction, anchor)

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Loss over every valid triplet (a, p, n) of a batch: ``y_a == y_p != y_n``, ``a != p``.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
        """
        dist = self.distance.matrix(embeddings)  # (B, B)
        same = labels.unsqueeze(0) == labels.unsqueeze(1)  # (B, B)
        eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        pos_mask = same & ~eye
        neg_mask = ~same
        terms = []
        for start in range(0, len(labels), self.anchor_chunk):
            d = dist[start : start + self.anchor_chunk]  # (c, B)
            valid = pos_mask[start : start + self.anchor_chunk].unsqueeze(2) & neg_mask[
                start : start + self.anchor_chunk
            ].unsqueeze(1)  # (c, B, B) over (anchor, positive, negative)
            t = torch.clamp(d.unsqueeze(2) - d.unsqueeze(1) + self.margin, min=0.0)
            terms.append(t[valid])
        return reduce(torch.cat(terms), self.reduction, embeddings)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, distance={self.distance.name}, reduction={self.reduction}"
