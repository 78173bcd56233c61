"""Rotation prediction as an auxiliary task (Gidaris, Bursuc, Komodakis, Pérez & Cord,
"Boosting Few-Shot Visual Learning with Self-Supervision", ICCV 2019; the pretext task is
Gidaris, Singh & Komodakis, "Unsupervised Representation Learning by Predicting Image
Rotations", ICLR 2018).

Each training image is also turned by a random multiple of 90° and a small training-only head
predicts, from the turned image's embedding, which of the four turns it was. Telling the turns
apart needs the shape of the object, not only what separates the training classes, so the
encoder keeps features that classes never trained on can use. With ``--rotation w`` the
trainer adds ``w · CE(head(f(rot_k(x))), k)`` to the metric loss; the head is saved with the
loss's weights and is not part of the model.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.losses.base import WrappedLoss, mlp_head

TURNS = 4  # 0°, 90°, 180°, 270°


class RotationLoss(nn.Module):
    """Cross-entropy of a head that predicts an image's quarter turns from its embedding.

    Args:
        embedding_dim: ``D``, the model's embedding size.
        hidden: Width of the head's hidden layer; 0 makes the head one linear layer, so the
            turns must be told apart linearly in the embedding itself.

    Example:
        >>> import torch
        >>> loss = RotationLoss(embedding_dim=16)
        >>> loss(torch.randn(8, 16), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])).shape
        torch.Size([])
    """

    def __init__(self, embedding_dim: int, hidden: int = 128) -> None:
        super().__init__()
        if hidden < 0:
            raise ValueError(
                f"the rotation head's hidden width must be >= 0 (0: linear); got {hidden}"
            )
        self.head: nn.Module = (
            nn.Linear(embedding_dim, TURNS)
            if hidden == 0
            else mlp_head(embedding_dim, hidden, TURNS, "the rotation head")
        )

    def forward(self, embeddings: Tensor, turns: Tensor) -> Tensor:
        """Mean cross-entropy over the batch.

        Args:
            embeddings: ``(B, D)`` embeddings of the turned images.
            turns: ``(B,)`` int64 in ``0..3``, the quarter turns each image was given.
        """
        if embeddings.dim() != 2 or turns.shape != embeddings.shape[:1]:
            raise ValueError(
                f"expected embeddings (B, D) and turns (B,); got {tuple(embeddings.shape)} and "
                f"{tuple(turns.shape)}"
            )
        return F.cross_entropy(self.head(embeddings), turns)  # head: (B, 4) logits


class WithRotation(WrappedLoss):
    """A metric loss together with the rotation task the trainer feeds separately.

    Calling it is calling ``loss``; the trainer embeds the turned images and adds
    ``weight · rotation(embeddings_of_turned, turns)``. Keeping both in one module saves,
    resumes and synchronises the rotation head with the loss.

    Args:
        loss: The metric loss (takes ``(embeddings, labels)``, optionally ``inputs_equal``).
        rotation: The rotation task's loss and head.
        weight: ``w > 0`` of the rotation term.
    """

    def __init__(self, loss: nn.Module, rotation: RotationLoss, weight: float) -> None:
        super().__init__(loss)
        if not weight > 0:
            raise ValueError(f"the rotation weight must be > 0, got {weight}")
        self.rotation = rotation
        self.weight = float(weight)

    def forward(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """The metric loss of a batch (the rotation term is added by the trainer)."""
        return self.inner(embeddings, labels, inputs_equal)

    def extra_repr(self) -> str:
        return f"weight={self.weight}"
