"""Multiple-negatives ranking over (anchor, response) pairs (Henderson et al., arXiv:1705.00652,
2017), as sentence-transformers' ``MultipleNegativesRankingLoss``.

Given each item's role (0 = anchor, 1 = response, e.g. ``text_a`` / ``text_b`` of a pairs
file), each anchor is scored against the batch's responses only::

    ℓ(a, r) = -log( exp(s_ar / τ) / Σ_{r' response} exp(s_ar' / τ) )

(sentence-transformers' default scale 20 is ``τ = 0.05``). ``symmetric=True``
(``multiple_negatives_symmetric_ranking``) adds the response → anchor direction, as CLIP does
(Radford et al., 2021). Without roles both losses are :class:`~siamkit.losses.nt_xent.NTXentLoss`,
where every item is an anchor and every other item a candidate.
"""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.losses.base import LOSSES, reduce
from siamkit.losses.nt_xent import NTXentLoss, check_batch
from siamkit.miners import relations


@LOSSES.register("multiple_negatives_ranking")
class MultipleNegativesRankingLoss(NTXentLoss):
    """In-batch-negatives ranking over (anchor, response) pairs (Henderson et al., 2017).

    Each anchor's positives are the responses with its label (the other text of its pair); the
    softmax runs over the batch's responses, so anchors are never each other's negatives. The
    trainer passes ``roles`` when the data has them (``text-pairs``: ``text_a`` is the anchor,
    ``text_b`` the response); without roles this is :class:`NTXentLoss`.

    Args:
        temperature: ``τ > 0``; 0.05 is sentence-transformers' scale 20.
        distance: gives ``s = closeness(D)``; cosine by default.
        reduction: ``mean`` | ``sum`` over the ``(anchor, positive)`` terms, or ``none``.
        margin: accepted so that ``get_loss`` can build every loss alike; **ignored**.
        symmetric: Also rank each response's anchors among the batch's anchors (the mean over
            both directions' terms).

    Example:
        >>> loss = MultipleNegativesRankingLoss(temperature=0.05)
        >>> emb, pair = torch.randn(6, 8), torch.tensor([0, 1, 2, 0, 1, 2])
        >>> loss(emb, pair, roles=torch.tensor([0, 0, 0, 1, 1, 1])).shape
        torch.Size([])
    """

    def __init__(
        self,
        temperature: float = 0.05,
        distance: str | Distance = "cosine",
        reduction: str = "mean",
        margin: float | None = None,
        symmetric: bool = False,
    ) -> None:
        super().__init__(temperature, distance, reduction, margin)
        self.symmetric = symmetric

    def forward(
        self,
        embeddings: Tensor,
        labels: Tensor,
        inputs_equal: Tensor | None = None,
        roles: Tensor | None = None,
    ) -> Tensor:
        """Loss over every (anchor, positive response) pair of a batch.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` pair ids (an anchor and its response share one).
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs; a candidate
                identical to the anchor, or to one of the anchor's positives (the same response
                text in two pairs), leaves the softmax instead of being pushed away.
            roles: Optional ``(B,)`` 0 (anchor) or 1 (response); None gives NT-Xent.
        """
        if roles is None:
            return super().forward(embeddings, labels, inputs_equal)
        check_batch(embeddings, labels)
        if roles.shape != labels.shape or not bool(((roles == 0) | (roles == 1)).all()):
            raise ValueError(
                f"roles must be (B,) = {tuple(labels.shape)} of 0 (anchor) and 1 (response); "
                f"got shape {tuple(roles.shape)}"
            )
        s = self.distance.closeness(self.distance.matrix(embeddings)) / self.temperature  # (B, B)
        rel = relations(labels, inputs_equal)
        negative = rel.negative
        if inputs_equal is not None:  # a copy of one's own positive is not a negative either
            equal = (inputs_equal | inputs_equal.T).to(embeddings.device).float()
            negative = negative & ~((rel.positive.float() @ equal) > 0)
        anchor, response = roles == 0, roles == 1
        terms = [_ranked(s, rel.positive, negative, anchor, response)]
        if self.symmetric:
            terms.append(_ranked(s, rel.positive, negative, response, anchor))
        return reduce(torch.cat(terms), self.reduction, embeddings)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", symmetric={self.symmetric}"


@LOSSES.register("multiple_negatives_symmetric_ranking")
class MultipleNegativesSymmetricRankingLoss(MultipleNegativesRankingLoss):
    """:class:`MultipleNegativesRankingLoss` in both directions (anchor → responses and
    response → anchors), as CLIP's loss; without roles it is NT-Xent too."""

    def __init__(
        self,
        temperature: float = 0.05,
        distance: str | Distance = "cosine",
        reduction: str = "mean",
        margin: float | None = None,
    ) -> None:
        super().__init__(temperature, distance, reduction, margin, symmetric=True)


def _ranked(s: Tensor, positive: Tensor, negative: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """``-log softmax`` of each ``rows`` item's positives among the ``cols`` items ``(K,)``.

    ``s`` ``(B, B)`` are the scaled closenesses; pairs neither positive nor negative
    (duplicates of another label) leave the softmax.
    """
    logits, pos = s[rows][:, cols], positive[rows][:, cols]  # (R, C)
    keep = pos | negative[rows][:, cols]
    logits = logits.masked_fill(~keep, torch.finfo(s.dtype).min)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_prob[pos]
