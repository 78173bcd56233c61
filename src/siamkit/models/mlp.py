"""A multi-layer perceptron encoder for feature vectors (tabular data)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from siamkit.models.registry import ENCODERS


class MLPEncoder(nn.Module):
    """Feature vectors ``(B, F)`` -> embeddings ``(B, D)``: Linear-BatchNorm-ReLU blocks.

    Args:
        in_features: ``F``.
        embedding_dim: ``D``.
        hidden: Sizes of the hidden layers.

    Example:
        >>> import torch
        >>> MLPEncoder(10, 8)(torch.zeros(4, 10)).shape
        torch.Size([4, 8])
    """

    def __init__(
        self, in_features: int, embedding_dim: int = 64, hidden: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_features
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.BatchNorm1d(h), nn.ReLU(inplace=True)]
            prev = h
        layers.append(nn.Linear(prev, embedding_dim))
        self.net = nn.Sequential(*layers)
        self.in_features = in_features

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F)`` (or any ``(B, ...)`` with F values per item) -> ``(B, D)``."""
        x = x.flatten(1)
        if x.shape[1] != self.in_features:
            raise ValueError(
                f"mlp encoder expects {self.in_features} features per item, got {x.shape[1]}"
            )
        return self.net(x)  # (B, D)


@ENCODERS.register("mlp")
def mlp_encoder(
    input_shape: tuple[int, ...], embedding_dim: int, widths: Sequence[int] | None = None
) -> nn.Module:
    """Factory for :class:`MLPEncoder`; any item shape is flattened to ``F`` features."""
    hidden = (256, 256) if widths is None else widths
    return MLPEncoder(math.prod(input_shape), embedding_dim, hidden)
