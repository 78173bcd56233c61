"""A Hugging Face image model as a pooled image backbone: normalised RGB ``(B, 3, S, S)`` ->
features ``(B, F)``, with the blocks ``--trainable-blocks`` counts.

Pooling, per model type (:data:`VISION_LAYOUTS`): the CLS token of the last hidden state, after
the final LayerNorm, for ViT, DeiT and DINOv2 (ViT's and DeiT's poolers are a dense + tanh
projection trained for another objective, so they are dropped); the model's own
``pooler_output`` where it is no projection: CLIP's vision tower (the CLS token after
``post_layernorm``; CLIP's ``visual_projection`` is not used), ConvNeXt / ConvNeXt V2 (spatial
mean, then LayerNorm), ResNet (spatial mean), Swin (token mean after LayerNorm).

``--trainable-blocks N`` trains the last N encoder layers (transformers) or stages (ConvNets)
and the final norm above them; ``0`` freezes the backbone, and by default all of it trains.

Example:
    >>> import torch, transformers
    >>> config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32,
    ...                                 num_hidden_layers=2, num_attention_heads=2,
    ...                                 intermediate_size=64)
    >>> backbone = HFVisionBackbone(transformers.ViTModel(config), "vit")
    >>> backbone(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 32])
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple, cast

from torch import Tensor, nn

_CONVNET_MIN_SIZE = 32  # ConvNets here halve a side five times (stem 4×, then 3 stages 2×)
# where models keep their stacked blocks and their final norm, across transformers versions
# (4.x: ``encoder.layer``; 5.x: ``layers``); the first that exists is used
_BLOCK_PATHS = ("layers", "encoder.layer", "encoder.layers", "encoder.stages")
_TOP_PATHS = ("post_layernorm", "layernorm")


class VisionLayout(NamedTuple):
    """How siamkit reads one type of Hugging Face image model."""

    pooling: Literal["cls", "pooler"]  # the CLS token of last_hidden_state, or pooler_output
    patches: bool  # a patch transformer: its smallest side is the patch size (else 32)


VISION_LAYOUTS: dict[str, VisionLayout] = {
    "vit": VisionLayout("cls", patches=True),
    "deit": VisionLayout("cls", patches=True),
    "dinov2": VisionLayout("cls", patches=True),
    "clip_vision_model": VisionLayout("pooler", patches=True),
    "convnext": VisionLayout("pooler", patches=False),
    "convnextv2": VisionLayout("pooler", patches=False),
    "resnet": VisionLayout("pooler", patches=False),
    "swin": VisionLayout("pooler", patches=False),
}
"""Supported image model types (``config.json``'s ``model_type``, or the ``vision_config``'s
of a dual encoder) and their pooling."""


def feature_size(config: Any) -> int:
    """``F``, the pooled feature size of an image model config: the last stage's width
    (ConvNets' ``hidden_sizes``) or the hidden size (transformers)."""
    sizes = getattr(config, "hidden_sizes", None)
    return int(sizes[-1]) if sizes else int(config.hidden_size)


def _path(model: nn.Module, candidates: Sequence[str]) -> list[str]:
    found = []
    for name in candidates:
        try:
            model.get_submodule(name)
        except AttributeError:
            continue
        found.append(name)
    return found


class HFVisionBackbone(nn.Module):
    """A Hugging Face image model as an :class:`~siamkit.models.pretrained_image.ImageBackbone`:
    normalised RGB ``(B, 3, S, S)`` -> pooled features ``(B, F)``.

    Args:
        model: The image model (``ViTModel``, ``CLIPVisionModel``, ``ConvNextModel``, ...).
        model_type: Its ``config.model_type``, a key of :data:`VISION_LAYOUTS`.

    Attributes:
        num_features: ``F``: the hidden size (transformers) or the last stage's width.
        min_size: The smallest side it takes (patch transformers: the patch size; else 32).
    """

    def __init__(self, model: nn.Module, model_type: str) -> None:
        super().__init__()
        if model_type not in VISION_LAYOUTS:
            raise ValueError(
                f"image model type '{model_type}' is not supported by hf:PATH; supported: "
                f"{', '.join(sorted(VISION_LAYOUTS))}"
            )
        layout = VISION_LAYOUTS[model_type]
        config: Any = model.config
        self.model = model
        self.pooling = layout.pooling
        self.num_features = feature_size(config)
        patch = getattr(config, "patch_size", _CONVNET_MIN_SIZE)
        patch = int(patch[0] if isinstance(patch, (list, tuple)) else patch)
        self.min_size = patch if layout.patches else _CONVNET_MIN_SIZE
        native = getattr(config, "image_size", None)
        self._native = (
            None
            if native is None
            else tuple(native[:2])
            if isinstance(native, (list, tuple))
            else (native, native)
        )
        params = inspect.signature(model.forward).parameters
        self._interpolate = "interpolate_pos_encoding" in params
        blocks = _path(model, _BLOCK_PATHS)
        if not blocks:
            raise ValueError(
                f"{model_type}: found none of {', '.join(_BLOCK_PATHS)} in {type(model).__name__}; "
                "this transformers version lays the model out differently"
            )
        self._blocks = blocks[0]
        self._tops = _path(model, _TOP_PATHS)

    @property
    def blocks(self) -> nn.ModuleList:
        """The encoder layers (transformers) or stages (ConvNets), bottom to top."""
        return cast(nn.ModuleList, self.model.get_submodule(self._blocks))

    @property
    def top(self) -> nn.Module:
        """The final norm(s) above the blocks (empty for ResNet)."""
        return nn.ModuleList(self.model.get_submodule(p) for p in self._tops)

    def forward(self, x: Tensor) -> Tensor:
        """Normalised RGB ``(B, 3, S, S)`` -> ``(B, F)``."""
        if self._interpolate and self._native is not None and tuple(x.shape[-2:]) != self._native:
            out = self.model(pixel_values=x, interpolate_pos_encoding=True)
        else:
            out = self.model(pixel_values=x)
        if self.pooling == "cls":
            return cast(Tensor, out.last_hidden_state[:, 0])  # (B, F)
        return cast(Tensor, out.pooler_output.flatten(1))  # (B, F); ResNet's is (B, F, 1, 1)
