"""Triplet loss (Schroff, Kalenichenko & Philbin, FaceNet, CVPR 2015).

``L = max(‖f(A)-f(P)‖² - ‖f(A)-f(N)‖² + m, 0)``: the anchor must be closer to the positive
than to the negative by at least ``m``. The distance defaults to squared Euclidean, as written.

With a triplet miner (``batch_hard``, ``semi_hard``, ``distance_weighted``) the loss of a
labelled batch is taken over the mined triplets only; ``batch_hard_triplet`` is that loss with
the ``batch_hard`` miner (Hermans, Beyer & Leibe 2017).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce
from siamkit.miners import Miner, MinerStats, TripletMiner, relations, resolve_miner


@LOSSES.register("triplet")
class TripletLoss(nn.Module):
    """Triplet loss over explicit triplets, or the triplets of a labelled batch.

    Args:
        margin: ``m``.
        distance: defaults to ``squared_euclidean`` (the formula above); with a similarity
            (larger = closer) the terms are ``max(s(A,N) - s(A,P) + m, 0)``.
        reduction: ``mean`` | ``sum`` | ``none``.
        anchor_chunk: anchors processed at a time in batch mode without a miner; memory is
            ``O(anchor_chunk · B²)``.
        miner: A triplet miner (registered name or object) choosing which triplets of a
            labelled batch count in :meth:`forward`; None for every valid triplet. A name is
            built for this loss's margin.

    Attributes:
        last_stats: The miner's :class:`~siamkit.miners.MinerStats` of the last
            :meth:`forward` (None without a miner, or before the first call).

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
        miner: str | Miner | None = None,
    ) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        check_reduction(reduction)
        self.margin = float(margin)
        self.distance = get_distance(distance)
        self.reduction = reduction
        self.anchor_chunk = anchor_chunk
        self.miner = resolve_miner(miner, TripletMiner, self.margin, "TripletLoss")
        self.last_stats: MinerStats | None = None

    def _terms(self, d_ap: Tensor, d_an: Tensor) -> Tensor:
        """``max(d(a,p) - d(a,n) + m, 0)``, with "closer" as the distance defines it."""
        closeness = self.distance.closeness
        return torch.clamp(closeness(d_an) - closeness(d_ap) + self.margin, min=0.0)

    def triplet_loss(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """Loss over aligned triplets, each ``(B, D)`` (never mined)."""
        d_ap = self.distance.pairwise(anchor, positive)  # (B,)
        d_an = self.distance.pairwise(anchor, negative)  # (B,)
        return reduce(self._terms(d_ap, d_an), self.reduction, anchor)

    def forward(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """Loss over the triplets (a, p, n) of a batch with ``y_a == y_p != y_n``, ``a != p``.

        Without a miner every valid triplet counts (``none`` lists them in (a, p, n) order);
        with one, only the mined triplets, in the miner's order.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs; such items are
                never each other's negatives, even when their labels differ.
        """
        dist = self.distance.matrix(embeddings)  # (B, B)
        if self.miner is not None:
            a, p, n, stats = self.miner(
                embeddings, labels, self.distance, inputs_equal, matrix=dist
            )
            self.last_stats = stats
            return reduce(self._terms(dist[a, p], dist[a, n]), self.reduction, embeddings)
        pos_mask, neg_mask = relations(labels, inputs_equal)  # (B, B) each
        terms = []
        for start in range(0, len(labels), self.anchor_chunk):
            d = dist[start : start + self.anchor_chunk]  # (c, B)
            valid = pos_mask[start : start + self.anchor_chunk].unsqueeze(2) & neg_mask[
                start : start + self.anchor_chunk
            ].unsqueeze(1)  # (c, B, B) over (anchor, positive, negative)
            terms.append(self._terms(d.unsqueeze(2), d.unsqueeze(1))[valid])
        return reduce(torch.cat(terms), self.reduction, embeddings)

    def extra_repr(self) -> str:
        miner = "" if self.miner is None else f", miner={self.miner.name}"
        return (
            f"margin={self.margin}, distance={self.distance.name}, reduction={self.reduction}"
            + miner
        )


@LOSSES.register("batch_hard_triplet")
def batch_hard_triplet(
    margin: float = 1.0, distance: str | Distance = "squared_euclidean", reduction: str = "mean"
) -> TripletLoss:
    """Triplet loss over each anchor's hardest positive and hardest negative in the batch
    (``batch_hard`` miner; Hermans, Beyer & Leibe, "In Defense of the Triplet Loss", 2017).

    Example:
        >>> from siamkit.losses import get_loss
        >>> loss = get_loss("batch_hard_triplet", margin=0.2, distance="euclidean")
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> loss(emb, torch.tensor([0, 0, 1, 1]))
        tensor(0.7455)
        >>> loss.last_stats.num_mined  # one triplet per anchor
        4
    """
    return TripletLoss(margin=margin, distance=distance, reduction=reduction, miner="batch_hard")
