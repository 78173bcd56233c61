"""Hugging Face image models as pretrained image encoders: ``--encoder hf:PATH``.

PATH is a local folder saved with ``save_pretrained``: the model (``config.json``, weights) and
its image processor (``preprocessor_config.json``). Nothing is downloaded: every load passes
``local_files_only=True`` with the hub switched off. The name ``hf:PATH`` is shared with text
models; the folder decides (:func:`hf_folder_kind`):

* **image** when it holds an image processor config (``image_mean``/``image_std`` or an
  ``image_processor_type``) and an image model config (``num_channels``, or a dual encoder
  such as CLIP, whose vision tower is used), and, unless it is such a dual encoder, no
  tokenizer files;
* **text** (:mod:`siamkit.models.text`) when it holds tokenizer files;
* anything else is an error naming what is missing.

An image model becomes a :class:`~siamkit.models.pretrained_image.PretrainedImageEncoder`, so
it shares everything with ``efficientnet_lite0``: preprocessing inside the model (resize to a
square side, grey to RGB, the processor's normalisation), an optional linear head,
``--trainable-blocks``, BatchNorm freezing and the backbone's learning-rate multiplier.

From the image processor: the side is ``crop_size`` when the processor centre-crops, else
``size`` (``height``/``width``, or ``shortest_edge``); ``--image-size`` overrides it
(transformers interpolate their position embeddings). The whole image is resized to that
square with bilinear interpolation (no crop, and not the processor's own PIL resampling), and
the processor's rescaling and ``image_mean``/``image_std`` are folded into one normalisation of
pixels in [0, 1].

Pooling, per model type (:data:`VISION_LAYOUTS`): the CLS token of the last hidden state, after
the final LayerNorm, for ViT, DeiT and DINOv2 (ViT's and DeiT's poolers are a dense + tanh
projection trained for another objective, so they are dropped); the model's own
``pooler_output`` where it is no projection: CLIP's vision tower (the CLS token after
``post_layernorm``; CLIP's ``visual_projection`` is not used), ConvNeXt / ConvNeXt V2 (spatial
mean, then LayerNorm), ResNet (spatial mean), Swin (token mean after LayerNorm).

``--trainable-blocks N`` trains the last N encoder layers (transformers) or stages (ConvNets)
and the final norm above them; ``0`` freezes the backbone, and by default all of it trains.

A saved run records the folder's path in its spec: reloading it rebuilds the architecture from
the folder's ``config.json`` and image processor settings *without* its weights
(``AutoModel.from_config``; the run's own weights are then loaded), so the folder must still be
there, though its weights file need not be.

Example:
    >>> enc = hf_vision_encoder("models/vit-small", (3, 64, 64), 128, pretrained=True)
    >>> enc(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 128])
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

from torch import Tensor, nn

from siamkit.models.pretrained_image import (
    Preprocessing,
    PretrainedDefaults,
    PretrainedImageEncoder,
)
from siamkit.models.text_tokenizer import TEXT_EXTRA, offline

IMAGE_PROCESSOR_FILE = "preprocessor_config.json"
# files that make a folder a text model's (any one of them); siamkit reads the tokenizer with
# transformers' AutoTokenizer
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)
# dual (image, text) encoders whose folder is read as its vision tower even beside a tokenizer
DUAL_ENCODERS = ("clip",)
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


class ImageProcessing(NamedTuple):
    """An image processor's settings as siamkit applies them to pixels in [0, 1]."""

    image_size: int | None  # the square side; None: not readable (then --image-size is needed)
    mean: tuple[float, ...]  # per-channel, 3 values, on pixels in [0, 1]
    std: tuple[float, ...]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _image_processor_config(folder: Path) -> dict[str, Any] | None:
    data = _read_json(folder / IMAGE_PROCESSOR_FILE)
    keys = ("image_processor_type", "image_mean", "image_std")
    return data if data is not None and any(k in data for k in keys) else None


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / name).is_file() for name in TOKENIZER_FILES)


def _is_image_config(config: dict[str, Any]) -> bool:
    return (
        "num_channels" in config
        or config.get("model_type") in VISION_LAYOUTS
        or (config.get("model_type") in DUAL_ENCODERS and "vision_config" in config)
    )


def is_vision_folder(path: str | Path) -> bool:
    """Whether ``path`` is a local Hugging Face image model folder (see the module docstring);
    False for anything else, a missing folder included. Reads two small JSON files.

    Example:
        >>> is_vision_folder("models/vit-small"), is_vision_folder("models/bert")
        (True, False)
    """
    folder = Path(path)
    config = _read_json(folder / "config.json")
    if config is None or _image_processor_config(folder) is None:
        return False
    if config.get("model_type") in DUAL_ENCODERS and "vision_config" in config:
        return True  # the vision tower; siamkit's text encoders do not read CLIP's text side
    return _is_image_config(config) and not _has_tokenizer(folder)


def hf_folder_kind(path: str | Path) -> Literal["text", "vision"]:
    """``vision`` or ``text``: how ``--encoder hf:PATH`` reads the folder ``path``.

    Raises:
        ValueError: No ``config.json`` there, or the folder is neither a text model (no
            tokenizer files) nor an image model (the message names what is missing).
    """
    folder = Path(path)
    config = _read_json(folder / "config.json")
    if config is None:
        what = "unreadable" if (folder / "config.json").is_file() else "no"
        raise ValueError(
            f"{folder} is not a Hugging Face model directory ({what} config.json); give a local "
            "folder saved with save_pretrained, or use --encoder minilm"
        )
    if is_vision_folder(folder):
        return "vision"
    if _has_tokenizer(folder):
        return "text"
    if not _is_image_config(config):
        missing = (
            f"its config.json (model_type {config.get('model_type')!r}) is no image model's "
            "(no num_channels)"
        )
    else:
        missing = f"there is no image processor config ({IMAGE_PROCESSOR_FILE})"
    raise ValueError(
        f"{folder} is neither a text model (no tokenizer files: {', '.join(TOKENIZER_FILES)}) "
        f"nor an image model ({missing}); save the tokenizer (text) or the image processor "
        "(images) into it with save_pretrained"
    )


def _side(value: Any) -> int | None:
    """A square side from a processor's ``size``/``crop_size``; None for a non-square one."""
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        if "height" in value and "width" in value:
            h, w = int(value["height"]), int(value["width"])
            return h if h == w else None
        if "shortest_edge" in value:
            return int(value["shortest_edge"])
    return None


def _three(value: Any, key: str, folder: Path) -> tuple[float, ...]:
    values = [value] * 3 if isinstance(value, (int, float)) else value
    if not isinstance(values, list) or len(values) != 3:
        raise ValueError(
            f"{folder / IMAGE_PROCESSOR_FILE}: {key} must be 3 numbers (one per RGB channel), "
            f"got {value!r}"
        )
    return tuple(float(v) for v in values)


def read_image_processor(path: str | Path) -> ImageProcessing:
    """The image processor settings of the folder ``path``, for pixels in [0, 1].

    The processor computes ``(p * rescale_factor - mean) / std`` on pixels ``p`` in 0..255;
    on ``x = p / 255`` that is ``(x - mean / s) / (std / s)`` with ``s = 255 *
    rescale_factor`` (1 for the usual ``1/255``; 255 without rescaling).

    Raises:
        ValueError: No image processor config, or it normalises without ``image_mean`` and
            ``image_std``.
    """
    folder = Path(path)
    data = _image_processor_config(folder)
    if data is None:
        raise ValueError(
            f"{folder} holds no image processor config ({IMAGE_PROCESSOR_FILE} with "
            "image_mean/image_std); save the model's image processor into it with "
            "AutoImageProcessor.save_pretrained"
        )
    crop = data.get("crop_size") if data.get("do_center_crop") else None
    side = _side(crop) if crop is not None else _side(data.get("size"))
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)  # without do_normalize: the rescaled pixels
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    if data.get("do_normalize", True):
        missing = [k for k in ("image_mean", "image_std") if data.get(k) is None]
        if missing:
            raise ValueError(
                f"{folder / IMAGE_PROCESSOR_FILE} normalises images but has no "
                f"{' or '.join(missing)}; add the values the model was trained with"
            )
        mean = _three(data["image_mean"], "image_mean", folder)
        std = _three(data["image_std"], "image_std", folder)
    scale = (
        255.0 * float(data.get("rescale_factor", 1 / 255))
        if data.get("do_rescale", True)
        else 255.0
    )
    return ImageProcessing(side, tuple(m / scale for m in mean), tuple(s / scale for s in std))


def _transformers() -> Any:
    """transformers, with the hub switched off; an error naming the extra if it is missing."""
    offline()
    try:
        import transformers
    except ImportError:
        raise ValueError(f"hf:PATH image models need transformers: {TEXT_EXTRA}") from None
    return transformers


@contextmanager
def _quiet_loading(transformers: Any) -> Iterator[None]:
    """No progress bar and no load report (siamkit checks the loaded keys itself)."""
    logging = transformers.utils.logging
    level = logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


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


def _features(config: Any) -> int:
    sizes = getattr(config, "hidden_sizes", None)
    return int(sizes[-1]) if sizes else int(config.hidden_size)


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
    return PretrainedDefaults(side, _features(config))


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
    with _quiet_loading(transformers):
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
        self.num_features = _features(config)
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


def hf_vision_encoder(
    path: str,
    input_shape: tuple[int, ...],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
    image_size: int | None = None,
    head: bool = True,
    pretrained: bool = False,
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
    )
