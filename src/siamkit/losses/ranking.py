"""Multiple-negatives ranking over (anchor, response) pairs (Henderson et al., arXiv:1705.00652,
2017), as sentence-transformers' ``MultipleNegativesRankingLoss``.

Given each item's role (0 = anchor, 1 = response, e.g. ``text_a`` / ``text_b`` of a pairs
file), each anchor is scored against the batch's responses only::

    ℓ(a, r) = -log( exp(s_ar / τ) / Σ_{r' response} exp(s_ar' / τ) )

(sentence-transformers' default scale 20 is ``τ = 0.05``). ``symmetric=True``
(``multiple_negatives_symmetric_ranking``) adds the response → anchor direction, as CLIP does
(Radford et al., 2021). ``memory`` adds a cross-batch memory of earlier responses (Wang et al.,
XBM, CVPR 2020). Without roles both losses are :class:`~siamkit.losses.nt_xent.NTXentLoss`,
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
        memory: Cross-batch memory (Wang et al., XBM, CVPR 2020): the last ``memory``
            responses of earlier batches are kept (detached) and join each anchor's softmax as
            further negatives, except those with the anchor's own label. 0 (the default) is
            off. It needs roles; a resumed run starts with an empty memory.

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
        memory: int = 0,
    ) -> None:
        super().__init__(temperature, distance, reduction, margin)
        if memory < 0:
            raise ValueError(f"memory must be >= 0 responses (0 = off), got {memory}")
        self.symmetric = symmetric
        self.memory = int(memory)
        self._kept: tuple[Tensor, Tensor] | None = None  # (M, D) responses, (M,) their labels

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
            if self.memory:
                raise ValueError(
                    "memory keeps past responses, which needs (anchor, response) roles: train "
                    "on text-pairs data, or set memory to 0"
                )
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
        extra = self._memory_logits(embeddings[anchor], labels[anchor])  # (A, M) or None
        terms = [_ranked(s, rel.positive, negative, anchor, response, extra)]
        if self.symmetric:
            terms.append(_ranked(s, rel.positive, negative, response, anchor))
        if self.memory and self.training:
            self._keep(embeddings[response].detach(), labels[response])
        return reduce(torch.cat(terms), self.reduction, embeddings)

    def _memory_logits(self, anchors: Tensor, labels: Tensor) -> Tensor | None:
        """Scaled closeness of each anchor to each kept response ``(A, M)``; the anchor's own
        label's responses (a pair seen in an earlier epoch) are left out."""
        if self._kept is None:
            return None
        kept, kept_labels = self._kept
        if kept.device != anchors.device or kept.shape[1] != anchors.shape[1]:
            self._kept = None  # moved to another device or re-shaped: start again
            return None
        logits = self.distance.closeness(self.distance.matrix(anchors, kept)) / self.temperature
        same = labels.unsqueeze(1) == kept_labels.unsqueeze(0)  # (A, M)
        return logits.masked_fill(same, torch.finfo(logits.dtype).min)

    def _keep(self, responses: Tensor, labels: Tensor) -> None:
        """Add a batch's responses to the memory, dropping the oldest beyond ``memory``."""
        if self._kept is not None and self._kept[0].device == responses.device:
            responses = torch.cat([self._kept[0], responses])
            labels = torch.cat([self._kept[1], labels])
        self._kept = (responses[-self.memory :], labels[-self.memory :])

    def reset_memory(self) -> None:
        """Forget the kept responses."""
        self._kept = None

    def extra_repr(self) -> str:
        return super().extra_repr() + f", symmetric={self.symmetric}, memory={self.memory}"


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
        memory: int = 0,
    ) -> None:
        super().__init__(temperature, distance, reduction, margin, symmetric=True, memory=memory)


def _ranked(
    s: Tensor,
    positive: Tensor,
    negative: Tensor,
    rows: Tensor,
    cols: Tensor,
    extra: Tensor | None = None,
) -> Tensor:
    """``-log softmax`` of each ``rows`` item's positives among the ``cols`` items ``(K,)``.

    ``s`` ``(B, B)`` are the scaled closenesses; pairs neither positive nor negative
    (duplicates of another label) leave the softmax. ``extra`` ``(R, M)``: further negatives'
    logits (already masked where they must not count).
    """
    logits, pos = s[rows][:, cols], positive[rows][:, cols]  # (R, C)
    keep = pos | negative[rows][:, cols]
    logits = logits.masked_fill(~keep, torch.finfo(s.dtype).min)
    if extra is not None:
        logits = torch.cat([logits, extra], dim=1)  # (R, C + M)
        pos = torch.cat([pos, torch.zeros_like(extra, dtype=torch.bool)], dim=1)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_prob[pos]
