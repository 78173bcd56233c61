"""Image files -> numpy arrays for an exported model, without torch (PIL + numpy only).

The same decoding as training and ``siamkit embed`` (:func:`siamkit.data.images.load_image`):
grayscale ``L`` or ``RGB`` conversion (16-bit images scaled to 8 bits, not clipped; see
:func:`to_model_mode`), bilinear resize to the model's size, values / 255.

An image over :data:`MAX_IMAGE_PIXELS` (64 megapixels) is refused before it is decoded, so a
decompression bomb (a small file that claims huge dimensions) costs nothing; pass
``max_pixels`` to allow larger ones.

Example:
    >>> batch = load_images(["a.png", "b.png"], channels=1, size=(28, 28))  # 8x8 files, resized
    >>> batch.shape, batch.dtype, bool(batch.min() >= 0 and batch.max() <= 1)
    ((2, 1, 28, 28), dtype('float32'), True)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from siamkit.progress import task

if TYPE_CHECKING:
    from PIL import Image as PILImage

ON_MISMATCH = ("resize", "reject")
MAX_IMAGE_PIXELS = 64_000_000  # width x height read at most; a digit is 784, a photo ~12M
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # read as 0..65535


def to_model_mode(img: PILImage.Image, channels: int) -> PILImage.Image:
    """``img`` as grayscale ``L`` (channels 1) or ``RGB`` (channels 3), 8 bits per channel.

    Pillow's own conversion clips a 16-bit image (``I;16``, ``I``) at 255, so nearly every
    pixel of a 16-bit PNG turns white; here 0..65535 is scaled to 0..255 instead, so a 16-bit
    file and its 8-bit twin give the same array within 1/255. Every decoder of images (files
    here, the service's uploads) should convert through this function.

    Example:
        >>> from PIL import Image
        >>> img = Image.fromarray(np.full((8, 8), 32768, np.uint16))  # 16-bit, half range
        >>> img.mode, img.convert("L").getpixel((0, 0))  # Pillow's conversion: white
        ('I;16', 255)
        >>> to_model_mode(img, 1).mode, to_model_mode(img, 1).getpixel((0, 0))  # mid grey
        ('L', 128)
    """
    if img.mode in SIXTEEN_BIT_MODES:
        wide = np.asarray(img, dtype=np.float64) / 65535.0  # (H, W) in [0, 1]
        narrow = np.rint(np.clip(wide, 0.0, 1.0) * 255.0).astype(np.uint8)  # (H, W)
        from PIL import Image

        img = Image.fromarray(narrow, mode="L")
    return img.convert("L" if channels == 1 else "RGB")


def load_image_array(
    path: str | Path,
    channels: int = 1,
    size: Sequence[int] | None = None,
    on_mismatch: str = "resize",
    max_pixels: int | None = None,
) -> npt.NDArray[np.float32]:
    """Decode one image to ``(C, H, W)`` float32 in [0, 1].

    Args:
        path: Image file.
        channels: 1 (grayscale) or 3 (RGB); other modes are converted.
        size: ``(H, W)`` wanted; None keeps the file's size.
        on_mismatch: ``resize`` an image of another size, or ``reject`` it.
        max_pixels: Largest width x height decoded; None: :data:`MAX_IMAGE_PIXELS`.

    Raises:
        ValueError: The file is missing, not a readable image, larger than ``max_pixels``, or
            of the wrong size under ``reject``; the message names the file.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if on_mismatch not in ON_MISMATCH:
        raise ValueError(f"unknown on_mismatch '{on_mismatch}'; choose one of: resize, reject")
    limit = MAX_IMAGE_PIXELS if max_pixels is None else int(max_pixels)
    pixels: int | str | None = None  # set when the image is over the limit
    img = None
    try:
        with warnings.catch_warnings():
            # the limit is checked here from the header; Pillow's own warning would repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > limit:
                    pixels = im.width * im.height
                else:
                    im.load()
                    img = to_model_mode(im, channels)
    except FileNotFoundError:
        raise ValueError(f"image file not found: {path}") from None
    except Image.DecompressionBombError as e:  # over Pillow's own (larger) limit, at open
        found = re.search(r"\((\d+) pixels\)", str(e))
        pixels = found.group(1) if found else "too many"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image {path}: not a readable image file ({e})") from e
    if img is None:
        raise ValueError(
            f"image {path} has {pixels} pixels, over the limit of {limit} (a decompression "
            "bomb, or simply too large): downscale it, or raise the limit (max_pixels=, "
            "siamkit.readers.images.MAX_IMAGE_PIXELS)"
        )
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
    max_pixels: int | None = None,
) -> npt.NDArray[np.float32]:
    """Decode several images to one batch ``(N, C, H, W)`` (see :func:`load_image_array`).

    Raises:
        ValueError: No paths, or an image that cannot be read (named).
    """
    if not paths:
        raise ValueError("no image files given")
    arrays = []
    with task("reading images", total=len(paths)) as advance:
        for p in paths:
            arrays.append(load_image_array(p, channels, size, on_mismatch, max_pixels))
            advance(1)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"images of different sizes {sorted(shapes)}; pass size=(H, W) to resize them"
        )
    return np.stack(arrays)
