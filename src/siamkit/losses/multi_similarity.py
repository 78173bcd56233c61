"""Multi-similarity loss with its pair mining (Wang, Han, Huang, Dong & Scott, CVPR 2019).

With ``S`` the similarity matrix (cosine by default), for each anchor ``i`` the mining step keeps

* negatives ``k`` with ``S_ik > min_{p ∈ P_i} S_ip - ε`` (harder than the hardest positive),
* positives ``p`` with ``S_ip < max_{k ∈ N_i} S_ik + ε`` (harder than the hardest negative),

and the loss weights the kept pairs by a soft, log-sum-exp pooling::

    ℓ_i = 1/α · log(1 + Σ_{p kept} exp(-α (S_ip - λ))) + 1/β · log(1 + Σ_{k kept} exp(β (S_ik - λ)))
    L   = 1/B · Σ_i ℓ_i

An anchor without positives keeps no negatives, one without negatives keeps no positives (the
minimum / maximum over an empty set is ``+∞`` / ``-∞``), and both then contribute 0 to the mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce
from siamkit.miners import relations


class _CosineSimilarity(Distance):
    """``cos(a, b)`` in ``[-1, 1]``; larger is closer (the paper's ``S``)."""

    name = "cosine_similarity"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return F.cosine_similarity(a, b, dim=1, eps=1e-8)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return F.normalize(a, dim=1, eps=1e-8) @ F.normalize(b, dim=1, eps=1e-8).T


@LOSSES.register("multi_similarity")
class MultiSimilarityLoss(nn.Module):
    """Multi-similarity loss over every anchor of a labelled batch, with the paper's mining.

    Args:
        alpha: ``α > 0``, the weight scale of positive pairs.
        beta: ``β > 0``, the weight scale of negative pairs.
        base: ``λ``, the similarity around which pairs are pulled up or pushed down.
        epsilon: ``ε ≥ 0``, the mining margin.
        distance: gives ``S = closeness(D)``. ``None`` (default): cosine similarity, as in the
            paper. With a distance (smaller = closer) ``S = -D``, and ``λ`` and ``ε`` are on that
            scale: e.g. ``distance="cosine"`` gives ``S = cos - 1``, so ``base=-0.5`` matches
            the default.
        reduction: ``mean`` | ``sum`` over anchors, or ``none`` for the ``(B,)`` terms.
        margin: accepted so that ``get_loss`` can build every loss alike; **ignored** (the
            mining margin is ``epsilon``).

    Example:
        >>> loss = MultiSimilarityLoss()
        >>> loss(torch.randn(8, 16), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])).shape
        torch.Size([])
    """

    def __init__(
        self,
        alpha: float = 2.0,
        beta: float = 50.0,
        base: float = 0.5,
        epsilon: float = 0.1,
        distance: str | Distance | None = None,
        reduction: str = "mean",
        margin: float | None = None,
    ) -> None:
        super().__init__()
        if not (alpha > 0 and beta > 0):
            raise ValueError(f"alpha and beta must be > 0, got alpha={alpha}, beta={beta}")
        if epsilon < 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon}; the paper uses 0.1")
        check_reduction(reduction)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.base = float(base)
        self.epsilon = float(epsilon)
        self.distance = _CosineSimilarity() if distance is None else get_distance(distance)
        self.reduction = reduction

    def forward(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """Loss over every anchor of a batch.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs; such pairs are
                never negatives (the false-negative guard).
        """
        if embeddings.dim() != 2 or labels.dim() != 1 or len(labels) != len(embeddings):
            raise ValueError(
                f"expected embeddings (B, D) and labels (B,); got {tuple(embeddings.shape)} and "
                f"{tuple(labels.shape)}"
            )
        s = self.distance.closeness(self.distance.matrix(embeddings))  # (B, B)
        pos, neg = relations(labels, inputs_equal)  # (B, B) each
        # Mining: a selection, so no gradient flows through the thresholds.
        sd = s.detach()
        hardest_pos = sd.masked_fill(~pos, torch.inf).amin(dim=1, keepdim=True)  # (B, 1)
        hardest_neg = sd.masked_fill(~neg, -torch.inf).amax(dim=1, keepdim=True)  # (B, 1)
        keep_pos = pos & (sd < hardest_neg + self.epsilon)  # (B, B)
        keep_neg = neg & (sd > hardest_pos - self.epsilon)  # (B, B)
        pos_term = _log1p_sum_exp(-self.alpha * (s - self.base), keep_pos) / self.alpha  # (B,)
        neg_term = _log1p_sum_exp(self.beta * (s - self.base), keep_neg) / self.beta  # (B,)
        return reduce(pos_term + neg_term, self.reduction, embeddings)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, base={self.base}, epsilon={self.epsilon}, "
            f"distance={self.distance.name}, reduction={self.reduction}"
        )


def _log1p_sum_exp(x: Tensor, keep: Tensor) -> Tensor:
    """``log(1 + Σ_{j kept} exp(x_ij))`` per row, stably; 0 (with zero gradient) for no kept j."""
    x = x.masked_fill(~keep, -torch.inf)  # (B, B)
    return torch.logsumexp(torch.cat([x, x.new_zeros(len(x), 1)], dim=1), dim=1)  # (B,)
