"""Image files -> tensors: decoding with PIL, channel conversion and size handling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from siamkit.readers.images import load_image_array  # one decoder, torch-free
from siamkit.readers.inputs import IMAGE_SUFFIXES

OnMismatch = Literal["resize", "reject"]


def load_image(
    path: str | Path,
    channels: int = 1,
    size: Sequence[int] | None = None,
    on_mismatch: OnMismatch = "resize",
) -> Tensor:
    """Decode one image to ``(C, H, W)`` float32 in [0, 1].

    Args:
        path: Image file.
        channels: 1 (grayscale) or 3 (RGB); other modes are converted.
        size: ``(H, W)`` wanted; None keeps the file's size.
        on_mismatch: ``resize`` a differently sized image, or ``reject`` it with a ValueError.

    Raises:
        ValueError: The file is missing, not an image, corrupt, or of the wrong size under
            ``reject``; the message names the file.
    """
    return torch.from_numpy(load_image_array(path, channels, size, on_mismatch))


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def images_under(folder: Path) -> list[Path]:
    """Image files anywhere under ``folder`` (subfolders too), sorted by path.

    Raises:
        ValueError: The folder holds no image file.
    """
    found = sorted(f for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise ValueError(f"folder {folder} holds no image files")
    return found
