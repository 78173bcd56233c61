"""NT-Xent / InfoNCE (Chen et al., SimCLR, ICML 2020; van den Oord et al., CPC, 2018).

For each anchor ``i`` and each positive ``p`` (another item with the same label)::

    ℓ(i, p) = -log( exp(s_ip / τ) / Σ_{k ≠ i} exp(s_ik / τ) )

and the loss is the mean of ``ℓ`` over all such ``(i, p)``. ``s`` is the closeness given by the
distance object (``-D`` for a distance, the value itself for a similarity); with the default
cosine distance ``s = cos - 1``, and the constant ``-1`` cancels in the softmax, so the loss is
exactly SimCLR's cosine-similarity NT-Xent. Self-supervised use: give each item's views the same
id as a label.

For (anchor, response) pairs see :mod:`siamkit.losses.ranking`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce
from siamkit.miners import relations


@LOSSES.register("nt_xent")
class NTXentLoss(nn.Module):
    """NT-Xent (normalised temperature-scaled cross entropy) over a labelled batch.

    Every item of the batch is an anchor; its positives are the other items with its label and
    the softmax runs over every other item of the batch (positives included, as in SimCLR where
    each anchor has exactly one positive). Anchors without a positive contribute nothing; a batch
    without any positive pair gives a zero that still backpropagates.

    Args:
        temperature: ``τ > 0``; smaller sharpens the softmax (SimCLR uses 0.1-0.5, MNRL 0.05).
        distance: gives ``s = closeness(D)``; cosine by default (equivalent to cosine similarity).
            With a distance the logits are ``-D / τ``, so ``τ`` is on the scale of ``D``.
        reduction: ``mean`` | ``sum`` over the ``(anchor, positive)`` terms, or ``none`` for
            the ``(K,)`` terms in row-major ``(anchor, positive)`` order.
        margin: accepted so that ``get_loss`` can build every loss alike; **ignored**.

    Example:
        >>> loss = NTXentLoss(temperature=0.1)
        >>> loss(torch.randn(8, 16), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])).shape
        torch.Size([])
    """

    def __init__(
        self,
        temperature: float = 0.1,
        distance: str | Distance = "cosine",
        reduction: str = "mean",
        margin: float | None = None,
    ) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(
                f"temperature must be > 0, got {temperature}; typical values are 0.05 to 0.5"
            )
        check_reduction(reduction)
        self.temperature = float(temperature)
        self.distance = get_distance(distance)
        self.reduction = reduction

    def forward(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """Loss over every (anchor, positive) pair of a batch.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels (or item ids shared by the views of one item).
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs (duplicates in the
                data); with different labels they leave the softmax instead of being pushed
                apart as negatives (the false-negative guard).
        """
        check_batch(embeddings, labels)
        n = len(labels)
        s = self.distance.closeness(self.distance.matrix(embeddings)) / self.temperature  # (B, B)
        eye = torch.eye(n, dtype=torch.bool, device=embeddings.device)
        rel = relations(labels, inputs_equal)
        left_out = eye | ~(rel.positive | rel.negative)  # itself, and duplicates of another label
        # The anchor itself (and any such duplicate) leaves the softmax. A finite fill (not
        # -inf) keeps a 1-item batch free of NaN gradients; exp(min - max) is exactly 0, so
        # the value is unchanged.
        logits = s.masked_fill(left_out, torch.finfo(s.dtype).min)  # (B, B)
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)  # (B, B)
        return reduce(-log_prob[rel.positive], self.reduction, embeddings)

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, distance={self.distance.name}, "
            f"reduction={self.reduction}"
        )


def check_batch(embeddings: Tensor, labels: Tensor) -> None:
    if embeddings.dim() != 2 or labels.dim() != 1 or len(labels) != len(embeddings):
        raise ValueError(
            f"expected embeddings (B, D) and labels (B,); got {tuple(embeddings.shape)} and "
            f"{tuple(labels.shape)}"
        )
