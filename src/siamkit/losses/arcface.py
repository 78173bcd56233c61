"""ArcFace, additive angular margin loss (Deng, Guo, Xue & Zafeiriou, CVPR 2019).

A softmax classifier over ``C`` training classes whose weights ``W`` ``(C, D)`` and inputs are
L2-normalised, so each logit is the cosine of the angle ``θ_j`` between an embedding and class
centre ``j``. The true class ``y`` gets an extra angle ``m``::

    logit_y = s · cos(θ_y + m),   logit_j = s · cos θ_j  (j ≠ y),   L = CE(logits, y)

``cos(θ + m)`` stops decreasing once ``θ + m > π``, which would reward pushing an embedding even
further from its class. There, like the authors' released code (insightface), the target logit
uses ``s · (cos θ - m · sin m)`` instead: the penalty still grows with ``θ``, so the logit is
non-increasing over all of ``[0, π]`` (with a small step down, about ``m²/2``, at
``θ = π - m`` where the fallback takes over).

Unlike the pair and triplet losses this one has parameters, ``W``: put them in the optimiser.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance
from siamkit.losses.base import LOSSES, check_reduction, reduce

# Floor under 1 - cos² before the square root: finite gradient when an embedding hits a centre.
_SIN2_FLOOR = 1e-12


class ArcFaceLoss(nn.Module):
    """Additive angular margin softmax loss with learned class centres.

    Args:
        num_classes: ``C``; labels must be integers in ``[0, C)``.
        embedding_dim: ``D``.
        margin: ``m`` in **radians**, in ``[0, π/2]`` (paper: 0.5 ≈ 28.6°).
        scale: ``s > 0`` (paper: 64).
        reduction: ``mean`` | ``sum`` over the batch, or ``none`` for the ``(B,)`` terms.

    Attributes:
        weight: ``(C, D)`` class centres (normalised when used; random directions at start).

    Example:
        >>> loss = ArcFaceLoss(num_classes=10, embedding_dim=16)
        >>> loss(torch.randn(4, 16), torch.tensor([0, 3, 3, 9])).shape
        torch.Size([])
    """

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int,
        margin: float = 0.5,
        scale: float = 64.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if num_classes < 2 or embedding_dim < 1:
            raise ValueError(
                f"arcface needs num_classes >= 2 and embedding_dim >= 1; got num_classes="
                f"{num_classes}, embedding_dim={embedding_dim}"
            )
        if not 0 <= margin <= math.pi / 2:
            raise ValueError(
                f"arcface margin is an angle in radians in [0, π/2], got {margin}; the paper "
                f"uses 0.5 (if {margin} is in degrees, pass {math.radians(margin):.4f})"
            )
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}; the paper uses 64")
        check_reduction(reduction)
        self.num_classes = int(num_classes)
        self.embedding_dim = int(embedding_dim)
        self.margin = float(margin)
        self.scale = float(scale)
        self.reduction = reduction
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        nn.init.normal_(self.weight, std=embedding_dim**-0.5)  # uniform directions, norm ≈ 1

    def cosines(self, embeddings: Tensor) -> Tensor:
        """``cos θ_j`` between each embedding ``(B, D)`` and each class centre: ``(B, C)``."""
        if embeddings.dim() != 2 or embeddings.shape[1] != self.embedding_dim:
            raise ValueError(
                f"arcface expects embeddings (B, {self.embedding_dim}); got "
                f"{tuple(embeddings.shape)}. Build the loss with the model's embedding_dim"
            )
        x = F.normalize(embeddings, dim=1, eps=1e-8)  # (B, D)
        w = F.normalize(self.weight, dim=1, eps=1e-8).to(x.dtype)  # (C, D)
        return x @ w.T  # (B, C)

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Cross entropy of the margin-adjusted, scaled cosine logits.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)`` integer class indices in ``[0, num_classes)``.
        """
        self._check_labels(labels, len(embeddings))
        cos = self.cosines(embeddings)  # (B, C)
        y = labels.long().unsqueeze(1)  # (B, 1)
        cos_y = cos.gather(1, y)  # (B, 1)
        sin_y = (1.0 - cos_y * cos_y).clamp_min(_SIN2_FLOOR).sqrt()  # (B, 1), θ in [0, π]
        cos_m, sin_m = math.cos(self.margin), math.sin(self.margin)
        target = torch.where(
            cos_y >= -cos_m,  # θ ≤ π - m
            cos_y * cos_m - sin_y * sin_m,  # cos(θ + m)
            cos_y - self.margin * sin_m,
        )  # (B, 1)
        logits = cos.scatter(1, y, target) * self.scale  # (B, C)
        terms = F.cross_entropy(logits, y.squeeze(1), reduction="none")  # (B,)
        return reduce(terms, self.reduction, embeddings)

    def _check_labels(self, labels: Tensor, batch: int) -> None:
        if labels.dim() != 1 or len(labels) != batch:
            raise ValueError(
                f"expected labels (B,) = ({batch},) for {batch} embeddings; got "
                f"{tuple(labels.shape)}"
            )
        if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
            raise ValueError(
                f"arcface labels are integer class indices; got dtype {labels.dtype}. "
                "Pass labels.long()"
            )
        if batch and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"arcface labels must lie in [0, {self.num_classes}); got values from "
                f"{int(labels.min())} to {int(labels.max())}. Remap them to 0..C-1 (e.g. "
                "torch.unique(labels, return_inverse=True)[1] over the training set) or build "
                "the loss with num_classes covering them"
            )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, embedding_dim={self.embedding_dim}, "
            f"margin={self.margin}, scale={self.scale}, reduction={self.reduction}"
        )


@LOSSES.register("arcface")
def arcface(
    margin: float = 0.5,
    distance: str | Distance | None = None,
    num_classes: int | None = None,
    embedding_dim: int | None = None,
) -> ArcFaceLoss:
    """Registry factory for :class:`ArcFaceLoss`; ``num_classes`` and ``embedding_dim`` required.

    ``distance`` may only be ``None`` or cosine: ArcFace is defined on angles.

    Example:
        >>> arcface(margin=0.5, num_classes=10, embedding_dim=64)
        ArcFaceLoss(num_classes=10, embedding_dim=64, margin=0.5, scale=64.0, reduction=mean)
    """
    if distance is not None and get_distance(distance).name != "cosine":
        raise ValueError(
            f"arcface compares angles and takes no distance; got "
            f"'{get_distance(distance).name}'. Leave the loss distance unset (or 'cosine')"
        )
    if num_classes is None or embedding_dim is None:
        raise ValueError(
            f"arcface learns one centre per training class and needs num_classes and "
            f"embedding_dim; got num_classes={num_classes}, embedding_dim={embedding_dim}. "
            "Pass both, e.g. arcface(margin=0.5, num_classes=10, embedding_dim=64)"
        )
    return ArcFaceLoss(num_classes=num_classes, embedding_dim=embedding_dim, margin=margin)
