"""The twin network: one encoder, shared by construction, applied to both inputs."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.distances import Distance, get_distance


class SiameseNetwork(nn.Module):
    """Embeds two inputs with ONE encoder (the same module, so the same weights) and compares them.

    Bromley et al., "Signature Verification using a Siamese Time Delay Neural Network", 1993.

    Args:
        encoder: Module mapping a batch ``(B, ...)`` to embeddings ``(B, D)``.
        distance: Registered name or :class:`~siamkit.distances.Distance`.
        normalize: L2-normalise embeddings (unit length) before comparing them.
        embedding_dim: ``D``; needed only to build a learned distance from its name.

    Example:
        >>> import torch
        >>> from siamkit.models.mlp import MLPEncoder
        >>> net = SiameseNetwork(MLPEncoder(4, 2), "euclidean")
        >>> net(torch.randn(3, 4), torch.randn(3, 4)).shape
        torch.Size([3])
    """

    def __init__(
        self,
        encoder: nn.Module,
        distance: str | Distance = "euclidean",
        normalize: bool = False,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        # A learned distance (mahalanobis) is an nn.Module: stored here, its parameters train
        # with the encoder and are saved in the checkpoint.
        self.distance = get_distance(distance, dim=embedding_dim)
        self.normalize = normalize
        self.embedding_dim = embedding_dim  # D when known (None: whatever the encoder gives)

    def embed(self, x: Tensor) -> Tensor:
        """``(B, ...)`` inputs -> ``(B, D)`` embeddings."""
        z = self.encoder(x)
        if z.dim() != 2:
            raise ValueError(f"the encoder must return (B, D) embeddings, got {tuple(z.shape)}")
        return F.normalize(z, dim=1) if self.normalize else z

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Distances ``(B,)`` between the embeddings of ``x1[i]`` and ``x2[i]``."""
        return self.distance.pairwise(self.embed(x1), self.embed(x2))
