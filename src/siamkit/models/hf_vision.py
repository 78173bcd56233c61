"""Hugging Face image models as pretrained image encoders: ``--encoder hf:PATH``.

PATH is a local folder saved with ``save_pretrained``: the model (``config.json``, weights) and
its image processor (``preprocessor_config.json``). Nothing is downloaded: every load passes
``local_files_only=True`` with the hub switched off. The name ``hf:PATH`` is shared with text
models; the folder decides (:func:`~siamkit.models.hf_folder.hf_folder_kind`).

An image model becomes a :class:`~siamkit.models.pretrained_image.PretrainedImageEncoder`, so
it shares everything with ``efficientnet_lite0``: preprocessing inside the model (resize to a
square side, grey to RGB, the processor's normalisation), an optional linear head,
``--trainable-blocks``, BatchNorm freezing and the backbone's learning-rate multiplier.

The image size and normalisation come from the image processor
(:mod:`~siamkit.models.hf_image_processor`); pooling per model type and the blocks
``--trainable-blocks`` counts from :mod:`~siamkit.models.hf_vision_backbone`.

A saved run records the folder's path in its spec: reloading it rebuilds the architecture from
the folder's ``config.json`` and image processor settings *without* its weights
(``AutoModel.from_config``; the run's own weights are then loaded), so the folder must still be
there, though its weights file need not be.

Example:
    A tiny random ViT saved as a folder, then read as an encoder of 8x8 grey images:

    >>> import json, torch, transformers
    >>> config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32,
    ...                                 num_hidden_layers=2, num_attention_heads=2,
    ...                                 intermediate_size=64)
    >>> transformers.ViTModel(config).save_pretrained("vit")
    >>> with open("vit/preprocessor_config.json", "w") as f:
    ...     json.dump({"image_mean": [0.5] * 3, "image_std": [0.5] * 3,
    ...                "size": {"height": 32, "width": 32}}, f)
    >>> enc = hf_vision_encoder("vit", (1, 8, 8), 16, pretrained=True)
    >>> enc(torch.rand(2, 1, 8, 8)).shape
    torch.Size([2, 16])
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from torch import nn

from siamkit.models.hf_folder import DUAL_ENCODERS, IMAGE_PROCESSOR_FILE
from siamkit.models.hf_image_processor import read_image_processor
from siamkit.models.hf_vision_backbone import VISION_LAYOUTS, HFVisionBackbone, feature_size
from siamkit.models.pretrained_image import (
    Preprocessing,
    PretrainedDefaults,
    PretrainedImageEncoder,
)
from siamkit.models.text_tokenizer import TEXT_EXTRA, quiet_loading


def _transformers() -> Any:
    """transformers, or an error naming the extra if it is missing (every load passes
    ``local_files_only=True``: the hub is never reached)."""
    try:
        import transformers
    except ImportError:
        raise ValueError(f"hf:PATH image models need transformers: {TEXT_EXTRA}") from None
    return transformers


def _vision_config(transformers: Any, folder: Path) -> tuple[Any, str]:
    """The folder's image model config (a dual encoder's ``vision_config``) and its type."""
    config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True)
    if config.model_type in DUAL_ENCODERS:
        config = config.vision_config
    model_type = str(config.model_type)
    if model_type not in VISION_LAYOUTS:
        raise ValueError(
            f"{folder}: image model type '{model_type}' is not supported by hf:PATH; "
            f"supported: {', '.join(sorted(VISION_LAYOUTS))} (and CLIP's vision tower)"
        )
    if getattr(config, "use_mask_token", False):
        config.use_mask_token = False  # masked-image-modelling token: never used here
    return config, model_type


def hf_vision_defaults(path: str | Path, image_size: int | None = None) -> PretrainedDefaults:
    """The image size (``image_size``, else the processor's) and the pooled feature size of
    the image model folder ``path``.

    Raises:
        ValueError: No ``image_size`` and the processor's size is not a square, or the folder
            is not a supported image model.
    """
    folder = Path(path)
    side = image_size or read_image_processor(folder).image_size
    if side is None:
        raise ValueError(_no_side(folder))
    config, _ = _vision_config(_transformers(), folder)
    return PretrainedDefaults(side, feature_size(config))


def _no_side(folder: Path) -> str:
    return (
        f"{folder / IMAGE_PROCESSOR_FILE} gives no square image size (size/crop_size as "
        "height = width or shortest_edge); give --image-size S"
    )


def load_vision_model(path: str | Path, pretrained: bool) -> tuple[nn.Module, str]:
    """The folder's image model (a dual encoder's vision tower) and its model type.

    Args:
        path: The model folder.
        pretrained: Load its weights (every one of the model's tensors must be there);
            False builds the architecture from ``config.json`` alone (``AutoModel.from_config``)
            for a saved run, whose own weights are loaded next.

    Raises:
        ValueError: transformers is missing (names the extra), the model type is not
            supported, or the weights do not cover the model.
    """
    folder = Path(path)
    transformers = _transformers()
    config, model_type = _vision_config(transformers, folder)
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    cls: Any = MODEL_MAPPING[type(config)]  # the model class of this config
    extra: dict[str, Any] = {}
    if (
        VISION_LAYOUTS[model_type].pooling == "cls"
        and "add_pooling_layer" in inspect.signature(cls.__init__).parameters
    ):
        extra["add_pooling_layer"] = False  # a projection the CLS embedding does not use
    with quiet_loading(transformers):
        if not pretrained:
            model = transformers.AutoModel.from_config(config, **extra)
        else:
            model, info = cls.from_pretrained(
                str(folder), config=config, local_files_only=True, output_loading_info=True,
                **extra,
            )  # fmt: skip
            missing = list(info.get("missing_keys", []))
            if missing:
                raise ValueError(
                    f"the weights in {folder} do not cover its {model_type} model: "
                    f"{len(missing)} tensor(s) missing (first: '{sorted(missing)[0]}'); save "
                    "the whole model there with save_pretrained"
                )
    return cast(nn.Module, model).float(), model_type


def hf_vision_encoder(
    path: str,
    input_shape: tuple[int, ...],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
    image_size: int | None = None,
    head: bool = True,
    pretrained: bool = False,
    keep_pretrained: bool = False,
) -> PretrainedImageEncoder:
    """A :class:`PretrainedImageEncoder` over the image model folder ``path`` (``hf:PATH``).

    Args:
        path: A local Hugging Face image model folder.
        input_shape: One item, ``(C, H, W)`` with C 1 or 3.
        embedding_dim: The head's output size ``D`` (ignored without a head).
        widths: Must be None (a fixed network).
        image_size: The square side images are resized to; None = the processor's.
        head: A linear head to ``embedding_dim``; False gives the pooled features.
        pretrained: Load the folder's weights (a fresh run); False = the architecture only.
        keep_pretrained: Embed with an untouched copy's features beside the trained ones.

    Raises:
        ValueError: Items are not images, ``widths`` given, or the folder cannot be read.
    """
    name = f"hf:{path}"
    if len(input_shape) != 3:
        raise ValueError(
            f"encoder '{name}' is an image model and needs images (C, H, W), but the data has "
            f"items of shape {input_shape}; use --encoder mlp for feature vectors"
        )
    if widths is not None:
        raise ValueError(f"--widths does not apply to {name} (a pretrained network)")
    folder = Path(path)
    processing = read_image_processor(folder)
    side = image_size or processing.image_size
    if side is None:
        raise ValueError(_no_side(folder))
    model, model_type = load_vision_model(folder, pretrained)
    backbone = HFVisionBackbone(model, model_type)
    return PretrainedImageEncoder(
        input_shape[0],
        embedding_dim,
        side,
        head=head,
        backbone=backbone,
        preprocessing=Preprocessing(processing.mean, processing.std, backbone.min_size),
        name=name,
        keep_pretrained=keep_pretrained,
    )
