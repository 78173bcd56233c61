"""Image files -> numpy arrays for an exported model, without torch (PIL + numpy only).

The same decoding as training and ``siamkit embed`` (:func:`siamkit.data.images.load_image`):
grayscale ``L`` or ``RGB`` conversion, bilinear resize to the model's size, values / 255.

Example:
    >>> batch = load_images(["a.png", "b.png"], channels=1, size=(28, 28))  # (2, 1, 28, 28)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

ON_MISMATCH = ("resize", "reject")


def load_image_array(
    path: str | Path,
    channels: int = 1,
    size: Sequence[int] | None = None,
    on_mismatch: str = "resize",
) -> npt.NDArray[np.float32]:
    """Decode one image to ``(C, H, W)`` float32 in [0, 1].

    Args:
        path: Image file.
        channels: 1 (grayscale) or 3 (RGB); other modes are converted.
        size: ``(H, W)`` wanted; None keeps the file's size.
        on_mismatch: ``resize`` an image of another size, or ``reject`` it.

    Raises:
        ValueError: The file is missing, not a readable image, or of the wrong size under
            ``reject``; the message names the file.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if on_mismatch not in ON_MISMATCH:
        raise ValueError(f"unknown on_mismatch '{on_mismatch}'; choose one of: resize, reject")
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
                    f"image {path} is {img.height}x{img.width}, expected {h}x{w}; resize it, "
                    "or allow resizing (--on-mismatch resize / on_mismatch='resize')"
                )
            img = img.resize((w, h), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3)
    return arr[None] if channels == 1 else np.ascontiguousarray(arr.transpose(2, 0, 1))


def load_images(
    paths: Sequence[str | Path],
    channels: int = 1,
    size: Sequence[int] | None = None,
    on_mismatch: str = "resize",
) -> npt.NDArray[np.float32]:
    """Decode several images to one batch ``(N, C, H, W)`` (see :func:`load_image_array`).

    Raises:
        ValueError: No paths, or an image that cannot be read (named).
    """
    if not paths:
        raise ValueError("no image files given")
    arrays = [load_image_array(p, channels, size, on_mismatch) for p in paths]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"images of different sizes {sorted(shapes)}; pass size=(H, W) to resize them"
        )
    return np.stack(arrays)
