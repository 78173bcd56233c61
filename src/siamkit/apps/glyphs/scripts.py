"""Scripts (alphabets) as Unicode ranges, installed fonts, and which characters each font draws.

The glyph data set (:mod:`siamkit.apps.glyphs.dataset`) takes one class per letter of a script. A
script is named here by its main Unicode blocks; its letters are the code points of those
blocks whose general category is a letter (``Lu``, ``Ll``, ``Lt``, ``Lo``) and that have no
canonical or compatibility decomposition (so ``é`` is not a class beside ``e``). Whether a font
draws a character is read from the font's own character map with fontTools (the ``glyphs``
extra); the renderer then also rejects renderings that are blank or equal to the font's
``.notdef`` box ("tofu").

Example:
    >>> script_letters("Greek")[:3]
    ['Ͱ', 'ͱ', 'Ͳ']
    >>> fonts = find_fonts()  # every .ttf / .otf under /usr/share/fonts, sorted
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts"),)
FONT_SUFFIXES = (".ttf", ".otf")
LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})

# Script name -> inclusive code point ranges (its main Unicode blocks). Names have no hyphen
# or comma, so class names "SCRIPT/CHAR" work in class ranges ("Greek/U0391-Greek/U03A9").
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Adlam": ((0x1E900, 0x1E95F),),
    "Armenian": ((0x0530, 0x058F),),
    "Arabic": ((0x0600, 0x06FF),),
    "Balinese": ((0x1B00, 0x1B7F),),
    "Bamum": ((0xA6A0, 0xA6FF),),
    "Bengali": ((0x0980, 0x09FF),),
    "Canadian_Aboriginal": ((0x1400, 0x167F),),
    "Cham": ((0xAA00, 0xAA5F),),
    "Cherokee": ((0x13A0, 0x13FF), (0xAB70, 0xABBF)),
    "Coptic": ((0x2C80, 0x2CFF),),
    "Cyrillic": ((0x0400, 0x04FF),),
    "Devanagari": ((0x0900, 0x097F),),
    "Ethiopic": ((0x1200, 0x137F),),
    "Georgian": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF)),
    "Glagolitic": ((0x2C00, 0x2C5F),),
    "Gothic": ((0x10330, 0x1034F),),
    "Grantha": ((0x11300, 0x1137F),),
    "Greek": ((0x0370, 0x03FF),),
    "Gujarati": ((0x0A80, 0x0AFF),),
    "Gurmukhi": ((0x0A00, 0x0A7F),),
    "Hanifi_Rohingya": ((0x10D00, 0x10D3F),),
    "Hebrew": ((0x0590, 0x05FF),),
    "Javanese": ((0xA980, 0xA9DF),),
    "Kannada": ((0x0C80, 0x0CFF),),
    "Kayah_Li": ((0xA900, 0xA92F),),
    "Khmer": ((0x1780, 0x17FF),),
    "Khojki": ((0x11200, 0x1124F),),
    "Lao": ((0x0E80, 0x0EFF),),
    "Latin": ((0x0041, 0x007A), (0x0100, 0x024F)),
    "Lisu": ((0xA4D0, 0xA4FF),),
    "Malayalam": ((0x0D00, 0x0D7F),),
    "Medefaidrin": ((0x16E40, 0x16E9F),),
    "Meetei_Mayek": ((0xABC0, 0xABFF),),
    "Mongolian": ((0x1800, 0x18AF),),
    "Myanmar": ((0x1000, 0x109F),),
    "NKo": ((0x07C0, 0x07FF),),
    "New_Tai_Lue": ((0x1980, 0x19DF),),
    "Nushu": ((0x1B170, 0x1B2FF),),
    "Nyiakeng_Puachue_Hmong": ((0x1E100, 0x1E14F),),
    "Ogham": ((0x1680, 0x169F),),
    "Ol_Chiki": ((0x1C50, 0x1C7F),),
    "Oriya": ((0x0B00, 0x0B7F),),
    "Osage": ((0x104B0, 0x104FF),),
    "Runic": ((0x16A0, 0x16FF),),
    "Sinhala": ((0x0D80, 0x0DFF),),
    "Sora_Sompeng": ((0x110D0, 0x110FF),),
    "Sundanese": ((0x1B80, 0x1BBF),),
    "Tai_Tham": ((0x1A20, 0x1AAF),),
    "Tai_Viet": ((0xAA80, 0xAADF),),
    "Tamil": ((0x0B80, 0x0BFF),),
    "Telugu": ((0x0C00, 0x0C7F),),
    "Thaana": ((0x0780, 0x07BF),),
    "Thai": ((0x0E00, 0x0E7F),),
    "Tibetan": ((0x0F00, 0x0FFF),),
    "Tifinagh": ((0x2D30, 0x2D7F),),
    "Vai": ((0xA500, 0xA63F),),
    "Yezidi": ((0x10E80, 0x10EBF),),
}


def script_letters(script: str) -> list[str]:
    """The letters of ``script`` in code point order (see the module for the rule).

    Raises:
        ValueError: ``script`` is not in :data:`SCRIPTS`; the message lists the known ones.
    """
    if script not in SCRIPTS:
        raise ValueError(f"unknown script '{script}'; choose from: {', '.join(sorted(SCRIPTS))}")
    out = []
    for lo, hi in SCRIPTS[script]:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if unicodedata.category(ch) in LETTER_CATEGORIES and not unicodedata.decomposition(ch):
                out.append(ch)
    return out


def find_fonts(dirs: Sequence[str | Path] | None = None) -> list[Path]:
    """Font files (``.ttf``, ``.otf``) under ``dirs`` (default ``/usr/share/fonts``), sorted.

    Raises:
        ValueError: A named folder does not exist.
    """
    roots = [Path(d) for d in dirs] if dirs else [d for d in FONT_DIRS if d.is_dir()]
    for root in roots:
        if not root.is_dir():
            raise ValueError(f"font folder {root} does not exist; pass folders holding .ttf/.otf")
    found = {
        p.resolve()
        for root in roots
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in FONT_SUFFIXES
    }
    return sorted(found)


@lru_cache(maxsize=1024)
def font_cmap(path: Path) -> frozenset[int]:
    """Code points the font at ``path`` maps to a glyph (its best Unicode ``cmap``).

    An unreadable font maps nothing (it is then never used).

    Raises:
        ImportError: fontTools is missing; the message names the extra to install.
    """
    try:
        from fontTools.ttLib import TTFont
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "rendering glyphs reads each font's character map with fontTools; install it with "
            "pip install 'siamkit[glyphs]'"
        ) from e
    try:
        with TTFont(str(path), fontNumber=0, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # a broken or unsupported font file: skip it, never fail the render
        return frozenset()
    return frozenset(cmap)
