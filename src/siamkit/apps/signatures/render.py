"""Drawing one synthetic signature: a text in a writer's hand (font + stable style) with jitter.

A :class:`WriterStyle` is drawn once per writer (:func:`draw_style`); every signature of that
writer varies a little around it (:func:`vary`): slant, baseline tilt, size and spacing move
slightly, each letter's baseline jitters afresh and the underline (for writers who make one)
is redrawn. The result is dark ink on white paper, like a scanned signature.

Example:
    >>> from siamkit.apps.signatures.handwriting_fonts import find_hand_fonts
    >>> rng = np.random.default_rng(0)
    >>> style = draw_style(find_hand_fonts()[0], rng)
    >>> img = render_signature("J. Smith", vary(style, rng), rng)
    >>> img.mode, img.size  # grey, 256 wide and 96 high
    ('L', (256, 96))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from siamkit.apps.signatures.handwriting_fonts import HandFont

CANVAS = (96, 256)  # (H, W) of a rendered signature: the 3:8 aspect the CEDAR loader reads
FONT_PX = 64  # letters are drawn at this size, then transformed and scaled onto the canvas
MARGIN = 4  # canvas pixels kept free on every side


@dataclass(frozen=True)
class WriterStyle:
    """How one writer writes: a hand (font) and the habits drawn once for that writer.

    Attributes:
        font: The hand.
        slant: Horizontal shear per unit height; > 0 leans right.
        rotation: Baseline tilt in degrees (counter-clockwise).
        stroke: Extra stroke width in font pixels (0 = the font's own pen).
        jitter: Standard deviation of each letter's baseline offset, in font heights.
        spacing: Extra space between letters, in font heights (may be negative).
        scale: Font size as a fraction of the canvas height.
        ink: Grey level of the ink, 0 (black) to 255 (paper).
        underline: Whether the writer draws a stroke under the name.
    """

    font: HandFont
    slant: float
    rotation: float
    stroke: int
    jitter: float
    spacing: float
    scale: float
    ink: int
    underline: bool


def draw_style(font: HandFont, rng: np.random.Generator) -> WriterStyle:
    """A writer's stable style in ``font``, drawn from ``rng``."""
    return WriterStyle(
        font=font,
        slant=float(rng.uniform(-0.25, 0.45)),
        rotation=float(rng.uniform(-5.0, 5.0)),
        stroke=int(rng.integers(0, 3)),
        jitter=float(rng.uniform(0.0, 0.08)),
        spacing=float(rng.uniform(-0.06, 0.12)),
        scale=float(rng.uniform(0.38, 0.6)),
        ink=int(rng.integers(0, 90)),
        underline=bool(rng.random() < 0.35),
    )


def vary(style: WriterStyle, rng: np.random.Generator, amount: float = 1.0) -> WriterStyle:
    """One sample's style: ``style`` with small random changes (``amount`` scales them)."""
    return replace(
        style,
        slant=style.slant + float(rng.normal(0.0, 0.05 * amount)),
        rotation=style.rotation + float(rng.normal(0.0, 1.5 * amount)),
        spacing=style.spacing + float(rng.normal(0.0, 0.015 * amount)),
        scale=style.scale * math.exp(float(rng.normal(0.0, 0.07 * amount))),
        ink=int(np.clip(style.ink + rng.normal(0.0, 8.0 * amount), 0, 160)),
    )


def imitate(forger: WriterStyle, victim: WriterStyle) -> WriterStyle:
    """A skilled forger's style: the victim's visible layout in the forger's own hand.

    The forger copies what is easy to see (slant, tilt, size, the underline) and keeps what
    is hard to copy: the letter shapes (font), pen width, letter spacing, jitter and ink.
    """
    return replace(
        forger,
        slant=victim.slant,
        rotation=victim.rotation,
        scale=victim.scale,
        underline=victim.underline,
    )


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def render_signature(
    text: str,
    style: WriterStyle,
    rng: np.random.Generator,
    canvas: tuple[int, int] = CANVAS,
) -> Image.Image:
    """Draw ``text`` in ``style`` on a white canvas.

    Letters are placed one by one (each with its own baseline jitter), the line is sheared by
    the slant and rotated by the tilt, then scaled to ``style.scale`` of the canvas height
    (shrunk further if it would not fit) and placed with a little random offset.

    Args:
        text: The signature's text, e.g. ``"M. Holloway"``.
        style: The sample's style (already varied with :func:`vary`).
        rng: Draws the letter jitter, the underline and the placement.
        canvas: ``(H, W)`` of the result.

    Returns:
        A PIL image, mode ``L``, ``W`` wide and ``H`` high: ink dark on 255 paper.
    """
    if not text.strip():
        raise ValueError("a signature needs a non-empty text")
    mask = _ink_mask(text, style, rng)  # L, ink = 255
    h, w = canvas
    box = mask.getbbox()
    if box is None:
        raise ValueError(f"font {style.font.path} drew nothing for {text!r}; use another font")
    mask = mask.crop(box)
    factor = style.scale * h / FONT_PX
    factor = min(factor, (w - 2 * MARGIN) / mask.width, (h - 2 * MARGIN) / mask.height)
    size = (max(1, round(mask.width * factor)), max(1, round(mask.height * factor)))
    mask = mask.resize(size, Image.Resampling.LANCZOS)
    slack_x, slack_y = w - 2 * MARGIN - size[0], h - 2 * MARGIN - size[1]
    x = MARGIN + round(slack_x * float(np.clip(rng.normal(0.3, 0.1), 0.0, 1.0)))
    y = MARGIN + round(slack_y * float(np.clip(rng.normal(0.5, 0.1), 0.0, 1.0)))
    page = Image.new("L", (w, h), 0)
    page.paste(mask, (x, y))
    ink = np.asarray(page, dtype=np.float32) / 255.0  # (H, W) coverage in [0, 1]
    paper = 255.0 - ink * (255.0 - style.ink)
    return Image.fromarray(np.clip(np.rint(paper), 0, 255).astype(np.uint8), mode="L")


def _ink_mask(text: str, style: WriterStyle, rng: np.random.Generator) -> Image.Image:
    """``text`` drawn letter by letter, sheared and rotated: white ink on black, mode L."""
    font = _font(str(style.font.path), FONT_PX)
    advance = [font.getlength(ch) for ch in text]
    width = int(sum(advance) + len(text) * max(style.spacing, 0.0) * FONT_PX + 4 * FONT_PX)
    height = 3 * FONT_PX
    base = 2 * FONT_PX
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    x = float(FONT_PX)
    drift = 0.0
    for ch, adv in zip(text, advance, strict=True):
        drift = 0.7 * drift + float(rng.normal(0.0, style.jitter * FONT_PX))
        draw.text(
            (x, base + drift),
            ch,
            font=font,
            fill=255,
            anchor="ls",
            stroke_width=style.stroke,
            stroke_fill=255,
        )
        x += adv + style.spacing * FONT_PX + float(rng.normal(0.0, 0.02 * FONT_PX))
    if style.underline:
        _underline(draw, float(FONT_PX), x, base, style, rng)
    return _slant_and_tilt(img, style.slant, style.rotation, base)


def _underline(
    draw: ImageDraw.ImageDraw,
    x0: float,
    x1: float,
    base: float,
    style: WriterStyle,
    rng: np.random.Generator,
) -> None:
    """A gently curved stroke under the name, redrawn (slightly differently) each time."""
    start = x0 + float(rng.uniform(-0.2, 0.3)) * FONT_PX
    end = x1 + float(rng.uniform(-0.5, 0.3)) * FONT_PX
    depth = base + float(rng.uniform(0.15, 0.35)) * FONT_PX
    bow = float(rng.normal(0.1, 0.05)) * FONT_PX
    ts = np.linspace(0.0, 1.0, 12)
    points = [(start + t * (end - start), depth + bow * math.sin(math.pi * t)) for t in ts]
    draw.line(points, fill=255, width=3 + 2 * style.stroke, joint="curve")


def _slant_and_tilt(img: Image.Image, slant: float, rotation: float, base: float) -> Image.Image:
    """Shear ``img`` about the baseline by ``slant``, then rotate it by ``rotation`` degrees."""
    pad = math.ceil(abs(slant) * img.height)
    wide = Image.new("L", (img.width + 2 * pad, img.height), 0)
    wide.paste(img, (pad, 0))
    # output (x, y) reads input (x + slant * (y - base), y): letters above the baseline lean right
    sheared = wide.transform(
        wide.size,
        Image.Transform.AFFINE,
        (1.0, slant, -slant * base, 0.0, 1.0, 0.0),
        resample=Image.Resampling.BILINEAR,
    )
    return sheared.rotate(rotation, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=0)
