"""An image model folder's image processor settings, as siamkit applies them to pixels in
[0, 1] (``preprocessor_config.json``).

The side is ``crop_size`` when the processor centre-crops, else ``size`` (``height``/``width``,
or ``shortest_edge``); ``--image-size`` overrides it (transformers interpolate their position
embeddings). The whole image is resized to that square with bilinear interpolation (no crop,
and not the processor's own PIL resampling), and the processor's rescaling and
``image_mean``/``image_std`` are folded into one normalisation of pixels in [0, 1].

Example:
    >>> import json
    >>> Path("vit").mkdir()
    >>> with open("vit/preprocessor_config.json", "w") as f:
    ...     json.dump({"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "do_rescale": True,
    ...                "rescale_factor": 1 / 255, "size": {"height": 224, "width": 224}}, f)
    >>> read_image_processor("vit")
    ImageProcessing(image_size=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from siamkit.models.hf_folder import IMAGE_PROCESSOR_FILE, image_processor_config


class ImageProcessing(NamedTuple):
    """An image processor's settings as siamkit applies them to pixels in [0, 1]."""

    image_size: int | None  # the square side; None: not readable (then --image-size is needed)
    mean: tuple[float, ...]  # per-channel, 3 values, on pixels in [0, 1]
    std: tuple[float, ...]


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
    data = image_processor_config(folder)
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
