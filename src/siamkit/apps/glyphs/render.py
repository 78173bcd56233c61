"""Drawing one character of one font as a small distorted grayscale image (black ink on white).

A glyph is drawn at 4x the output size and placed in the middle of the square, scaled so that
a glyph as large as 80% of the font size fills 85% of the side (so a lowercase ``o`` stays
smaller than an uppercase ``O``; larger glyphs are shrunk to fit), made thinner or thicker
by a min/max filter, distorted by an affine map (rotation, shear, scale, translation, as the
affine distortions of Koch et al. 2015, "Siamese Neural Networks for One-shot Image
Recognition", section 4.2) and reduced to the output size by area averaging. Written with PIL
and numpy only.

Example:
    >>> from PIL import ImageFont
    >>> font = ImageFont.truetype("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 77)
    >>> img = render_glyph(font, "A", 32, Distortion(rotation=5.0, thickness=1))
    >>> img.shape, img.dtype
    ((32, 32), dtype('uint8'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OVERSAMPLE = 4  # glyphs are drawn at this multiple of the output size, then area-averaged
FONT_SCALE = 0.6  # font size (em) as a share of the drawing square
FIT = 0.85  # the largest glyph fills this share of the square
REFERENCE = 0.8  # glyphs up to this share of the font size keep their drawn size
NOTDEF_PROBE = "\U0010fffe"  # a noncharacter: no font maps it, so it draws the .notdef glyph
BLANK_INK = 4.0  # total ink (sum of [0, 1] pixels of the output) below which a glyph is blank


@dataclass(frozen=True)
class Distortion:
    """One random distortion of a glyph (the identity by default).

    Attributes:
        rotation: Degrees, counter-clockwise.
        shear: Horizontal shear factor (x += shear * y).
        scale: Scale factor around the centre.
        shift_x, shift_y: Translation as a share of the image side.
        thickness: Stroke change: ``k > 0`` dilates the ink by ``k`` pixels of the drawing
            (a (2k+1) max filter), ``k < 0`` erodes it (skipped when it would erase most ink).
    """

    rotation: float = 0.0
    shear: float = 0.0
    scale: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    thickness: int = 0


@dataclass(frozen=True)
class DistortionRanges:
    """How far random distortions go (each drawn uniformly within ``±`` the value).

    Attributes:
        rotation: Degrees.
        shear: Shear factor.
        scale: Relative scale change (0.1: scale in [0.9, 1.1]).
        shift: Translation, as a share of the side.
        thickness: Largest stroke change, in drawing pixels (integer draw in [-t, t + 1]).
    """

    rotation: float = 10.0
    shear: float = 0.15
    scale: float = 0.1
    shift: float = 0.06
    thickness: int = 1

    def sample(self, rng: np.random.Generator) -> Distortion:
        """One distortion drawn from ``rng``."""
        return Distortion(
            rotation=float(rng.uniform(-self.rotation, self.rotation)),
            shear=float(rng.uniform(-self.shear, self.shear)),
            scale=float(1.0 + rng.uniform(-self.scale, self.scale)),
            shift_x=float(rng.uniform(-self.shift, self.shift)),
            shift_y=float(rng.uniform(-self.shift, self.shift)),
            thickness=int(rng.integers(-self.thickness, self.thickness + 2)),
        )


@lru_cache(maxsize=512)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path`` for drawing ``size``-pixel outputs (cached).

    Raises:
        ValueError: The file is not a font FreeType can open; the message names it.
    """
    try:
        return ImageFont.truetype(str(path), size=int(size * OVERSAMPLE * FONT_SCALE))
    except OSError as e:
        raise ValueError(f"cannot open font {path}: {e}") from e


def render_glyph(
    font: ImageFont.FreeTypeFont, char: str, size: int, distortion: Distortion | None = None
) -> np.ndarray:
    """Draw ``char`` with ``font`` as a ``(size, size)`` uint8 image, black ink on white.

    Args:
        font: A FreeType font whose size is ``size * OVERSAMPLE * FONT_SCALE`` (see
            :func:`load_font`).
        char: One character.
        size: Output side in pixels.
        distortion: The distortion to apply; None = none.

    Returns:
        ``(size, size)`` uint8, 255 = background. All white when the font draws no ink.
    """
    hi = size * OVERSAMPLE
    ink = _draw_centred(font, char, hi)  # (hi, hi) "L", ink = 255
    d = distortion or Distortion()
    if d.thickness:
        ink = _thicken(ink, d.thickness)
    if (d.rotation, d.shear, d.scale, d.shift_x, d.shift_y) != (0.0, 0.0, 1.0, 0.0, 0.0):
        ink = ink.transform((hi, hi), Image.Transform.AFFINE, _inverse_affine(d, hi),
                            resample=Image.Resampling.BILINEAR)  # fmt: skip
    small = ink.resize((size, size), Image.Resampling.BOX)  # area average
    return 255 - np.asarray(small, dtype=np.uint8)  # black ink on white


def notdef_image(font: ImageFont.FreeTypeFont, size: int) -> np.ndarray:
    """The font's ``.notdef`` glyph ("tofu") as :func:`render_glyph` draws it, undistorted."""
    return render_glyph(font, NOTDEF_PROBE, size)


def is_drawn(image: np.ndarray, notdef: np.ndarray) -> bool:
    """Whether an undistorted rendering shows a real glyph: not blank and not the tofu box."""
    ink = (255.0 - image.astype(np.float64)).sum() / 255.0
    return bool(ink >= BLANK_INK and not np.array_equal(image, notdef))


def _draw_centred(font: ImageFont.FreeTypeFont, char: str, hi: int) -> Image.Image:
    """The glyph's ink (255) on black, centred in a ``(hi, hi)`` square and fitted to it."""
    scratch = Image.new("L", (3 * hi, 3 * hi), 0)
    ImageDraw.Draw(scratch).text((hi, 2 * hi), char, font=font, fill=255, anchor="ls")
    box = scratch.getbbox()
    out = Image.new("L", (hi, hi), 0)
    if box is None:
        return out
    glyph = scratch.crop(box)
    w, h = glyph.size
    # The reference side is a share of the font size (about a capital's height): glyphs keep
    # their size relative to each other, and a glyph larger than that is fitted to the square.
    side = max(w, h, REFERENCE * font.size)
    factor = FIT * hi / side
    if abs(factor - 1.0) > 1e-6:
        glyph = glyph.resize(
            (max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.LANCZOS
        )
    gw, gh = glyph.size
    out.paste(glyph, ((hi - gw) // 2, (hi - gh) // 2))
    return out


def _thicken(ink: Image.Image, k: int) -> Image.Image:
    size = 2 * abs(k) + 1
    if k > 0:
        return ink.filter(ImageFilter.MaxFilter(size))
    thinner = ink.filter(ImageFilter.MinFilter(size))
    before = np.asarray(ink, dtype=np.float64).sum()
    kept = np.asarray(thinner, dtype=np.float64).sum()
    return thinner if kept >= 0.5 * before else ink  # hairline fonts keep their strokes


def _inverse_affine(d: Distortion, hi: int) -> tuple[float, float, float, float, float, float]:
    """PIL's AFFINE data: the map from output pixels back to input pixels."""
    c = hi / 2.0
    t = math.radians(d.rotation)
    rot = np.array([[math.cos(t), math.sin(t), 0.0], [-math.sin(t), math.cos(t), 0.0], [0, 0, 1]])
    shear = np.array([[1.0, d.shear, 0.0], [0.0, 1.0, 0.0], [0, 0, 1]])
    scale = np.diag([d.scale, d.scale, 1.0])
    to_origin = np.array([[1.0, 0.0, -c], [0.0, 1.0, -c], [0, 0, 1]])
    back = np.array([[1.0, 0.0, c + d.shift_x * hi], [0.0, 1.0, c + d.shift_y * hi], [0, 0, 1]])
    forward = back @ rot @ shear @ scale @ to_origin  # input -> output pixel
    inv = np.linalg.inv(forward)
    return (inv[0, 0], inv[0, 1], inv[0, 2], inv[1, 0], inv[1, 1], inv[1, 2])
