"""A small convolutional image encoder: Conv-BN-ReLU blocks, global pooling, a linear layer."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from siamkit.models.registry import ENCODERS


class ConvEncoder(nn.Module):
    """Images ``(B, C, H, W)`` of any H×W -> embeddings ``(B, D)``.

    Each width adds a block Conv3x3-BatchNorm-ReLU; every block but the last is followed by
    MaxPool2 (ceil mode, so odd and tiny images work); then global average pooling and a linear
    layer. The defaults are the reference encoder of the fmnist-openset protocol.

    Args:
        in_channels: 1 (grayscale) or 3 (RGB).
        embedding_dim: Output size ``D``.
        widths: Channels of each block; the depth is ``len(widths)``.

    Example:
        >>> import torch
        >>> enc = ConvEncoder(in_channels=1, embedding_dim=64)
        >>> enc(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 64])
    """

    def __init__(
        self, in_channels: int = 1, embedding_dim: int = 64, widths: Sequence[int] = (32, 64, 128)
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"conv encoder takes 1 or 3 channels, got {in_channels}")
        if not widths:
            raise ValueError("conv encoder needs at least one width")
        layers: list[nn.Module] = []
        prev = in_channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(prev, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            prev = w
        layers.append(nn.AdaptiveAvgPool2d(1))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(prev, embedding_dim)
        self.in_channels = in_channels

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> ``(B, D)``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"conv encoder expects images (B, {self.in_channels}, H, W), got shape "
                f"{tuple(x.shape)}; convert inputs to {self.in_channels} channel(s)"
            )
        return self.head(self.features(x).flatten(1))  # (B, D)


@ENCODERS.register("conv")
def conv_encoder(
    input_shape: tuple[int, ...], embedding_dim: int, widths: Sequence[int] | None = None
) -> nn.Module:
    """Factory for :class:`ConvEncoder` from an item shape ``(C, H, W)``."""
    if len(input_shape) != 3:
        raise ValueError(
            f"encoder 'conv' needs images (C, H, W), but the data has items of shape "
            f"{input_shape}; use --encoder mlp for feature vectors"
        )
    return ConvEncoder(input_shape[0], embedding_dim, (32, 64, 128) if widths is None else widths)
