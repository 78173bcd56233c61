"""Image files -> tensors: decoding with PIL, channel conversion and size handling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
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
    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        with Image.open(path) as im:
            im.load()
            img = im.convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise ValueError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image {path}: not a readable image file ({e})") from e
    if size is not None:
        h, w = int(size[0]), int(size[1])
        if (img.height, img.width) != (h, w):
            if on_mismatch == "reject":
                raise ValueError(
                    f"image {path} is {img.height}x{img.width}, expected {h}x{w}; resize it "
                    "or use --on-mismatch resize"
                )
            img = img.resize((w, h), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    t = torch.from_numpy(arr)
    return t.unsqueeze(0) if channels == 1 else t.permute(2, 0, 1).contiguous()


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
