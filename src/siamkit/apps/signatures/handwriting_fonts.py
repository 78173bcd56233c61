"""Hand-style fonts installed on this machine: the "hands" synthetic signatures are written in.

Each :class:`HandFont` is one hand (a font family's regular face; a family's bold or italic
faces are the same hand and are left out). The list names the Debian package of each, so a
missing hand can be installed with ``apt-get install``; fonts elsewhere can be given as files.

Example:
    >>> hands = find_hand_fonts()
    >>> [h.name for h in hands][:3]
    ['because-we-build', 'because-we-connect', 'because-we-create']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT_ROOT = Path("/usr/share/fonts")

# (hand name, path under FONT_ROOT, Debian package): one regular face per hand, in a fixed order
KNOWN_HANDS: tuple[tuple[str, str, str], ...] = (
    ("because-we-build", "opentype/bwht/BecauseWeBuild-Regular.otf", "fonts-bwht"),
    ("because-we-connect", "opentype/bwht/BecauseWeConnect-Regular.otf", "fonts-bwht"),
    ("because-we-create", "opentype/bwht/BecauseWeCreate-Regular.otf", "fonts-bwht"),
    ("because-we-learn", "opentype/bwht/BecauseWeLearn-Regular.otf", "fonts-bwht"),
    ("because-we-mentor", "opentype/bwht/BecauseWeMentor-Regular.otf", "fonts-bwht"),
    ("because-we-organize", "opentype/bwht/BecauseWeOrganize-Regular.otf", "fonts-bwht"),
    ("dkg-handwriting", "truetype/fifthhorseman/dkg.ttf", "fonts-dkg-handwriting"),
    ("femkeklaver", "truetype/femkeklaver/femkeklaver.ttf", "fonts-femkeklaver"),
    ("breip", "truetype/breip/Breip.ttf", "fonts-breip"),
    ("rufscript", "truetype/rufscript/Rufscript010.ttf", "fonts-rufscript"),
    ("dancing-script", "opentype/dancingscript/DancingScript-Regular.otf", "fonts-dancingscript"),
    ("kristi", "truetype/kristi/Kristi.ttf", "fonts-kristi"),
    ("kaushan-script", "opentype/kaushanscript/KaushanScript-Regular.otf", "fonts-kaushanscript"),
    ("humor-sans", "truetype/humor-sans/Humor-Sans.ttf", "fonts-humor-sans"),
    ("delphine", "truetype/sjfonts/Delphine.ttf", "fonts-sjfonts"),
    ("steve-hand", "truetype/sjfonts/SteveHand.ttf", "fonts-sjfonts"),
    ("ecolier-court", "truetype/ecolier-court/Ecolier-court.ttf", "fonts-ecolier-court"),
    ("tomson-talks", "truetype/tomsontalks/TomsonTalks.ttf", "fonts-tomsontalks"),
    ("purisa", "opentype/tlwg/Purisa.otf", "fonts-tlwg-purisa-otf"),
)
DEBIAN_PACKAGES = tuple(dict.fromkeys(pkg for _, _, pkg in KNOWN_HANDS))


@dataclass(frozen=True)
class HandFont:
    """One hand: a font file and the name it is recorded under.

    Attributes:
        name: Short stable name (``dkg-handwriting``), recorded in the rendered set.
        path: The font file (TrueType or OpenType).
    """

    name: str
    path: Path


def find_hand_fonts(font_root: str | Path = FONT_ROOT) -> list[HandFont]:
    """The known hand-style fonts installed under ``font_root``, in :data:`KNOWN_HANDS` order.

    Args:
        font_root: Where Debian installs fonts (``/usr/share/fonts``).

    Returns:
        The installed hands (possibly none; :func:`require_hands` turns that into an error).
    """
    root = Path(font_root)
    return [HandFont(name, root / rel) for name, rel, _ in KNOWN_HANDS if (root / rel).is_file()]


def hands_from_files(paths: Sequence[str | Path]) -> list[HandFont]:
    """Hands from explicit font files, each named after its file stem (``SteveHand``).

    Raises:
        ValueError: A file that does not exist, or two files with the same stem.
    """
    hands: list[HandFont] = []
    for raw in paths:
        p = Path(raw)
        if not p.is_file():
            raise ValueError(f"font file {p} does not exist; give a .ttf or .otf file")
        hands.append(HandFont(p.stem, p))
    names = [h.name for h in hands]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"font files with the same name {dup}; rename one of them")
    return hands


def require_hands(hands: Sequence[HandFont], needed: int) -> None:
    """Raise a ValueError naming the Debian packages when fewer than ``needed`` hands exist."""
    if len(hands) < needed:
        raise ValueError(
            f"{len(hands)} hand-style fonts found, {needed} needed (one per part of the writer "
            f"split at least); install them with 'apt-get install --no-install-recommends "
            f"{' '.join(DEBIAN_PACKAGES)}' or pass font files with --font"
        )
