"""Which encoders start from pretrained image weights, and what they default to.

One place that knows both families: EfficientNet-Lite0 written here
(:mod:`siamkit.models.pretrained_image`) and Hugging Face image model folders (``hf:PATH``,
:mod:`siamkit.models.hf_vision`), so neither module imports the other's dispatch.

Example:
    >>> is_pretrained_image("efficientnet_lite0")
    True
    >>> pretrained_image_defaults("efficientnet_lite0").features
    1280
"""

from __future__ import annotations

from siamkit.models.efficientnet_lite import LITE0_FEATURES
from siamkit.models.hf_folder import is_vision_folder
from siamkit.models.hf_vision import hf_vision_defaults
from siamkit.models.pretrained_image import (
    DEFAULT_IMAGE_SIZE,
    PRETRAINED_IMAGE_ENCODERS,
    PretrainedDefaults,
)


def is_pretrained_image(encoder: str) -> bool:
    """Whether ``encoder`` names a pretrained image encoder: ``efficientnet_lite0``, or
    ``hf:PATH`` with PATH a Hugging Face image model folder (read from its files)."""
    base, _, arg = encoder.partition(":")
    if base == "hf":
        return bool(arg) and is_vision_folder(arg)
    return base in PRETRAINED_IMAGE_ENCODERS


def pretrained_image_defaults(encoder: str, image_size: int | None = None) -> PretrainedDefaults:
    """The image size and the pooled feature size of a pretrained image encoder.

    Args:
        encoder: ``efficientnet_lite0`` (:data:`DEFAULT_IMAGE_SIZE`, 1280) or ``hf:PATH`` of an
            image model folder (its image processor's size, its hidden size).
        image_size: The run's own side (``--image-size``); None = the encoder's default.

    Raises:
        ValueError: ``encoder`` is not a pretrained image encoder.
    """
    if encoder.partition(":")[0] == "hf" and is_pretrained_image(encoder):
        return hf_vision_defaults(encoder.partition(":")[2], image_size)
    if encoder == "efficientnet_lite0":
        return PretrainedDefaults(image_size or DEFAULT_IMAGE_SIZE, LITE0_FEATURES)
    raise ValueError(
        f"'{encoder}' is not a pretrained image encoder; choose efficientnet_lite0 or "
        "hf:PATH with PATH a Hugging Face image model folder"
    )
