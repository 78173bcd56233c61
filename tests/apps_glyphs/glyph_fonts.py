"""A few installed fonts for the glyph tests, linked into a temporary folder (fast to scan)."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamkit.apps.glyphs.scripts import find_fonts

# Any two of these that draw Greek and Armenian serve (fonts-noto-core, fonts-dejavu-core).
PREFERRED = (
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
    "NotoSerif-Regular.ttf",
    "NotoSansArmenian-Regular.ttf",
    "NotoSerifArmenian-Regular.ttf",
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
)


def font_folder(tmp: Path) -> Path:
    """A folder of links to the preferred installed fonts; skips the test if too few exist."""
    fonts = [f for f in find_fonts() if f.name in PREFERRED]
    if len(fonts) < 3:
        pytest.skip("needs fonts-noto-core (or fonts-dejavu-core) installed under /usr/share/fonts")
    folder = tmp / "fonts"
    folder.mkdir()
    for f in fonts:
        (folder / f.name).symlink_to(f)
    return folder
