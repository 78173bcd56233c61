"""The uniformity regulariser (Wang & Isola, "Understanding Contrastive Representation Learning
through Alignment and Uniformity on the Hypersphere", ICML 2020).

For the embeddings ``z`` of a batch::

    U(z) = log( 1/(B(B-1)) · Σ_{i ≠ j} exp(-t ‖z_i - z_j‖²) )

It is lowest when the embeddings spread evenly over the unit sphere. Added to a supervised loss
(``--uniformity λ``: ``L + λ·U``) it keeps the dimensions the training classes do not need
alive: with few training classes, a supervised loss alone folds every embedding onto a handful
of directions (about one per class), and classes never seen in training lose what told them
apart.

It needs no labels; it is registered for use beside another loss, not alone.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class UniformityLoss(nn.Module):
    """``log mean_{i≠j} exp(-t ‖z_i - z_j‖²)`` over a batch of embeddings.

    Args:
        t: The kernel's sharpness ``t > 0`` (Wang & Isola use 2).

    Example:
        >>> u = UniformityLoss()
        >>> u(torch.nn.functional.normalize(torch.randn(64, 16), dim=1)).item() < 0
        True
    """

    def __init__(self, t: float = 2.0) -> None:
        super().__init__()
        if not t > 0:
            raise ValueError(f"uniformity t must be > 0, got {t}; Wang & Isola use 2")
        self.t = float(t)

    def forward(self, embeddings: Tensor) -> Tensor:
        """The batch's uniformity; a batch of one item gives a zero still on the graph.

        Args:
            embeddings: ``(B, D)``, usually L2-normalised.
        """
        if embeddings.dim() != 2:
            raise ValueError(f"embeddings should be (B, D), got shape {tuple(embeddings.shape)}")
        n = embeddings.shape[0]
        if n < 2:
            return embeddings.sum() * 0.0
        sq = torch.pdist(embeddings).pow(2)  # (B(B-1)/2,): each unordered pair once
        # the mean over ordered pairs i ≠ j equals the mean over unordered ones
        return torch.logsumexp(-self.t * sq, dim=0) - math.log(sq.numel())

    def extra_repr(self) -> str:
        return f"t={self.t}"
