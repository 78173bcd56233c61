"""Fonts for the signature tests: the installed hands, else any TrueType fonts found."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamkit.apps.signatures.handwriting_fonts import HandFont, find_hand_fonts

FALLBACK_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def hands_for_tests(needed: int = 4) -> list[HandFont]:
    """``needed`` or more hands: the installed hand-style fonts, else DejaVu / matplotlib's."""
    hands = find_hand_fonts()
    if len(hands) >= needed:
        return hands
    files: list[Path] = []
    for d in FALLBACK_DIRS:
        files += sorted(d.glob("*.ttf")) if d.is_dir() else []
    try:
        import matplotlib

        files += sorted((Path(matplotlib.__file__).parent / "mpl-data/fonts/ttf").glob("*.ttf"))
    except ImportError:
        pass
    if len(files) < needed:
        pytest.skip("no fonts to render signatures with (apt-get install fonts-bwht ...)")
    return [HandFont(p.stem, p) for p in files[: max(needed, 6)]]
