"""Koch's learned verification head (Koch, Zemel & Salakhutdinov, ICML DL Workshop 2015).

From "Siamese Neural Networks for One-shot Image Recognition": a pair is scored by a weighted
L1 distance passed through a sigmoid, and trained with binary cross entropy against "same"::

    p(a, b) = σ(w · |a - b| + c),    L = -[t · log p + (1 - t) · log(1 - p)],   t = 1 - Y

with **Y = 1 for a dissimilar pair**, the convention of :mod:`siamkit.losses.contrastive` (so
``t = 1`` means "same"). ``w`` ``(D,)`` and ``c`` are learned: the head has parameters, so put
them in the optimiser, and keep them with the model to verify with :meth:`KochLoss.probability`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.distances import Distance
from siamkit.losses.base import LOSSES, check_reduction, reduce
from siamkit.losses.contrastive import check_pair_labels


class KochLoss(nn.Module):
    """Sigmoid over a learned weighted L1 distance, trained with binary cross entropy.

    Args:
        embedding_dim: ``D``, the size of the embeddings the head scores.
        reduction: ``mean`` | ``sum`` over pairs, or ``none`` for the ``(K,)`` terms.
        margin: accepted so that ``get_loss`` can build every loss alike; **ignored**.

    Attributes:
        head: ``nn.Linear(D, 1)`` holding ``w`` and ``c``.

    Example:
        >>> loss = KochLoss(embedding_dim=8)
        >>> loss.probability(torch.zeros(2, 8), torch.ones(2, 8)).shape
        torch.Size([2])
    """

    def __init__(
        self, embedding_dim: int, margin: float | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ValueError(f"embedding_dim must be >= 1, got {embedding_dim}")
        check_reduction(reduction)
        self.embedding_dim = int(embedding_dim)
        self.reduction = reduction
        self.head = nn.Linear(embedding_dim, 1)

    def logits(self, a: Tensor, b: Tensor) -> Tensor:
        """``w · |a - b| + c`` for aligned rows of ``a`` and ``b`` (each ``(B, D)``): ``(B,)``."""
        if a.shape != b.shape or a.dim() != 2 or a.shape[1] != self.embedding_dim:
            raise ValueError(
                f"the Koch head scores aligned pairs of shape (B, {self.embedding_dim}); got "
                f"{tuple(a.shape)} and {tuple(b.shape)}. Build it with the model's embedding_dim"
            )
        return self.head((a - b).abs()).squeeze(1)  # (B,)

    def probability(self, a: Tensor, b: Tensor) -> Tensor:
        """``p(same)`` in ``(0, 1)`` for aligned pairs, each ``(B, D)``: ``(B,)``."""
        return torch.sigmoid(self.logits(a, b))

    def pair_loss(self, a: Tensor, b: Tensor, y: Tensor) -> Tensor:
        """Loss over aligned pairs.

        Args:
            a: ``(B, D)`` embeddings of the first items.
            b: ``(B, D)`` embeddings of the second items.
            y: ``(B,)`` pair labels: 0 = similar, 1 = dissimilar (anything else: ValueError).
        """
        check_pair_labels(y)
        z = self.logits(a, b)  # (B,)
        same = 1.0 - y.to(z.dtype)  # (B,)
        return reduce(_bce(z, same), self.reduction, a)

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Loss over every pair ``i < j`` of a batch; "same" where the class labels agree.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` class labels.
        """
        if labels.dim() != 1 or len(labels) != len(embeddings):
            raise ValueError(
                f"expected embeddings (B, D) and labels (B,); got {tuple(embeddings.shape)} and "
                f"{tuple(labels.shape)}"
            )
        i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=embeddings.device)
        z = self.logits(embeddings[i], embeddings[j])  # (B(B-1)/2,)
        same = (labels[i] == labels[j]).to(z.dtype)
        return reduce(_bce(z, same), self.reduction, embeddings)

    def extra_repr(self) -> str:
        return f"embedding_dim={self.embedding_dim}, reduction={self.reduction}"


def _bce(z: Tensor, target: Tensor) -> Tensor:
    """Per-pair binary cross entropy from logits (stable for large ``|z|``)."""
    return F.binary_cross_entropy_with_logits(z, target, reduction="none")


@LOSSES.register("koch")
def koch(
    margin: float | None = None,
    distance: str | Distance | None = None,
    embedding_dim: int | None = None,
) -> KochLoss:
    """Registry factory for :class:`KochLoss`; ``embedding_dim`` is required, ``margin`` ignored.

    ``distance`` must be ``None``: the head learns its own weighted L1 distance.

    Example:
        >>> koch(embedding_dim=64).probability(torch.zeros(3, 64), torch.ones(3, 64)).shape
        torch.Size([3])
    """
    if distance is not None:
        name = distance if isinstance(distance, str) else distance.name
        raise ValueError(
            f"koch learns its own weighted L1 distance and takes no distance; got '{name}'. "
            "Leave the loss distance unset"
        )
    if embedding_dim is None:
        raise ValueError(
            "koch's verification head needs embedding_dim (the model's embedding size); got "
            "None. Pass it, e.g. koch(embedding_dim=64)"
        )
    return KochLoss(embedding_dim=embedding_dim)
