"""Contrastive loss (Hadsell, Chopra & LeCun, CVPR 2006).

``L = (1-Y)·D² + Y·max(0, m-D)²`` where **Y = 1 marks a dissimilar pair** and Y = 0 a similar
one: similar pairs are pulled together, dissimilar pairs pushed at least ``m`` apart.

With a pair miner (e.g. ``hard_pairs``) the loss of a labelled batch is taken over the mined
pairs only; ``online_contrastive`` is that loss with the ``hard_pairs`` miner.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce
from siamkit.miners import Miner, MinerStats, PairMiner, relations, resolve_miner

CONVENTION = (
    "siamkit's contrastive loss is L = (1-Y)·D² + Y·max(0, m-D)² with Y=0 for a similar pair "
    "and Y=1 for a dissimilar pair; if your labels use 1 for 'same', pass 1 - labels"
)


def contrastive_terms(d: Tensor, y: Tensor, margin: float) -> Tensor:
    """Per-pair terms ``(1-Y)·D² + Y·max(0, m-D)²``.

    Args:
        d: ``(K,)`` distances.
        y: ``(K,)`` pair labels, 1 = dissimilar.
        margin: ``m``.
    """
    y = y.to(d.dtype)
    return (1.0 - y) * d.pow(2) + y * torch.clamp(margin - d, min=0.0).pow(2)


def check_pair_labels(y: Tensor) -> None:
    """Raise a ValueError stating the label convention unless every label is 0 or 1."""
    bad = ~((y == 0) | (y == 1))
    if bool(bad.any()):
        found = sorted({float(v) for v in y[bad].flatten()[:5].tolist()})
        raise ValueError(f"contrastive pair labels must be 0 or 1, found {found}; {CONVENTION}")


@LOSSES.register("contrastive")
class ContrastiveLoss(nn.Module):
    """Contrastive loss over explicit pairs or over the pairs of a labelled batch.

    Args:
        margin: ``m``, how far apart dissimilar pairs are pushed.
        distance: ``D``; Euclidean by default, any registered name or Distance object.
        reduction: ``mean`` | ``sum`` | ``none``.
        miner: A pair miner (registered name or object, e.g. ``hard_pairs``) choosing which
            pairs of a labelled batch count in :meth:`forward`; None for every pair. A name
            is built for this loss's margin.

    Attributes:
        last_stats: The miner's :class:`~siamkit.miners.MinerStats` of the last
            :meth:`forward` (None without a miner, or before the first call).

    Example:
        >>> loss = ContrastiveLoss(margin=1.0)
        >>> loss.pair_loss(torch.zeros(1, 2), torch.tensor([[0.6, 0.0]]), torch.tensor([1]))
        tensor(0.1600)
    """

    def __init__(
        self,
        margin: float = 1.0,
        distance: str | Distance = "euclidean",
        reduction: str = "mean",
        miner: str | Miner | None = None,
    ) -> None:
        super().__init__()
        if margin <= 0:
            raise ValueError(f"margin must be > 0, got {margin}")
        check_reduction(reduction)
        self.margin = float(margin)
        self.distance = get_distance(distance)
        self.reduction = reduction
        self.miner = resolve_miner(miner, PairMiner, self.margin, "ContrastiveLoss")
        self.last_stats: MinerStats | None = None

    def pair_loss(self, a: Tensor, b: Tensor, y: Tensor) -> Tensor:
        """Loss over aligned pairs (never mined).

        Args:
            a: ``(B, D)`` embeddings of the first items.
            b: ``(B, D)`` embeddings of the second items.
            y: ``(B,)`` pair labels: 0 = similar, 1 = dissimilar (anything else: ValueError).
        """
        check_pair_labels(y)
        d = self.distance.pairwise(a, b)  # (B,)
        return reduce(contrastive_terms(d, y, self.margin), self.reduction, a)

    def forward(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """Loss over the pairs ``i < j`` of a batch; Y = 1 where the class labels differ.

        Without a miner every pair counts (``none`` lists them in ``i < j`` order); with one,
        only the mined pairs (``none`` lists the positive pairs, then the negative ones).

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs; such pairs are
                never dissimilar pairs, even when their labels differ.
        """
        dist = self.distance.matrix(embeddings)  # (B, B)
        if self.miner is not None:
            mined = self.miner(embeddings, labels, self.distance, inputs_equal, matrix=dist)
            self.last_stats = mined.stats
            d = torch.cat(
                [dist[mined.pos_anchor, mined.positive], dist[mined.neg_anchor, mined.negative]]
            )  # (P + N,)
            y = torch.cat([torch.zeros_like(mined.positive), torch.ones_like(mined.negative)])
            return reduce(contrastive_terms(d, y, self.margin), self.reduction, embeddings)
        i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=embeddings.device)
        if inputs_equal is not None:
            rel = relations(labels, inputs_equal)
            keep = rel.positive[i, j] | rel.negative[i, j]
            i, j = i[keep], j[keep]
        y = (labels[i] != labels[j]).long()
        return reduce(contrastive_terms(dist[i, j], y, self.margin), self.reduction, embeddings)

    def extra_repr(self) -> str:
        miner = "" if self.miner is None else f", miner={self.miner.name}"
        return (
            f"margin={self.margin}, distance={self.distance.name}, reduction={self.reduction}"
            + miner
        )


@LOSSES.register("online_contrastive")
def online_contrastive(
    margin: float = 1.0, distance: str | Distance = "euclidean", reduction: str = "mean"
) -> ContrastiveLoss:
    """Contrastive loss over the hard pairs of each batch (``hard_pairs`` miner): positive
    pairs not yet together and negative pairs inside the margin.

    Example:
        >>> from siamkit.losses import get_loss
        >>> loss = get_loss("online_contrastive", margin=0.5)
        >>> loss
        ContrastiveLoss(margin=0.5, distance=euclidean, reduction=mean, miner=hard_pairs)
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> loss(emb, torch.tensor([0, 0, 1, 1]))
        tensor(3.6250)
    """
    return ContrastiveLoss(
        margin=margin, distance=distance, reduction=reduction, miner="hard_pairs"
    )
