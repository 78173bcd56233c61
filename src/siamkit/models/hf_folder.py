"""Recognising a local Hugging Face model folder for ``--encoder hf:PATH``: image or text.

The name ``hf:PATH`` is shared by image and text models; the folder decides
(:func:`hf_folder_kind`):

* **image** when it holds an image processor config (``image_mean``/``image_std`` or an
  ``image_processor_type``) and an image model config (``num_channels``, or a dual encoder
  such as CLIP, whose vision tower is used), and, unless it is such a dual encoder, no
  tokenizer files;
* **text** (:mod:`siamkit.models.text`) when it holds tokenizer files;
* anything else is an error naming what is missing.

Only two small JSON files are read; nothing imports transformers.

Example:
    >>> import json, transformers
    >>> transformers.ViTConfig().save_pretrained("vit")  # config.json only
    >>> with open("vit/preprocessor_config.json", "w") as f:
    ...     json.dump({"image_mean": [0.5] * 3, "image_std": [0.5] * 3}, f)
    >>> transformers.BertConfig().save_pretrained("bert")
    >>> with open("bert/tokenizer_config.json", "w") as f:
    ...     json.dump({"tokenizer_class": "BertTokenizer"}, f)
    >>> hf_folder_kind("vit"), hf_folder_kind("bert")
    ('vision', 'text')
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from siamkit.models.hf_vision_backbone import VISION_LAYOUTS

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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def image_processor_config(folder: Path) -> dict[str, Any] | None:
    """The folder's image processor config, or None when it has none (or one without
    ``image_processor_type``, ``image_mean`` and ``image_std``)."""
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
        >>> import json, transformers
        >>> transformers.ViTConfig().save_pretrained("vit")
        >>> is_vision_folder("vit")  # no image processor config yet
        False
        >>> with open("vit/preprocessor_config.json", "w") as f:
        ...     json.dump({"image_mean": [0.5] * 3, "image_std": [0.5] * 3}, f)
        >>> is_vision_folder("vit"), is_vision_folder("no/such/folder")
        (True, False)
    """
    folder = Path(path)
    config = _read_json(folder / "config.json")
    if config is None or image_processor_config(folder) is None:
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
