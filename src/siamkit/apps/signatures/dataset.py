"""A synthetic signature set in CEDAR's layout, written in real handwriting fonts.

A *writer* is a hand (a handwriting font) plus that writer's own habits (slant, tilt, pen
width, letter spacing and jitter, size, ink, underline), drawn once from the seed; the writer
signs one name, in one form (``Margaret Holloway``, ``M. Holloway``, ...). Each genuine
signature varies a little around the writer's style. A *skilled forgery* of writer W is W's
signature text written by another writer in their own hand, copying W's visible layout (slant,
tilt, size, underline); a *random forgery* of W is another writer's genuine signature.

Writers are numbered ``1..N`` and split, in that order, into training, validation and
evaluation writers; the hands (fonts) are split with them, so evaluation writers write in hands
no training writer used, and forgers are drawn from the victim's own part. The set is written
as CEDAR is published (``full_org/original_W_S.png``, ``full_forg/forgeries_W_S.png``) so
:mod:`siamkit.apps.signatures.cedar` reads both, plus ``writers.csv`` (each writer's name and
style), ``forgers.csv`` (who forged each forgery) and ``splits.json`` (writer ranges per part).

Example (tiny: the defaults, 60 writers with 24 genuine signatures and 24 forgeries each, take
a while):
    >>> info = render_signature_set(
    ...     "sigs", writers=10, val_writers=4, eval_writers=3, genuine=4, forgeries=2
    ... )
    >>> info.parts
    {'train': '1-3', 'val': '4-7', 'eval': '8-10'}
    >>> info.writers[0].name, info.writers[0].text, info.writers[0].part
    ('Julia Costa', 'J. Costa', 'train')
    >>> sorted(p.name for p in Path("sigs").iterdir())
    ['forgers.csv', 'full_forg', 'full_org', 'splits.json', 'writers.csv']
    >>> [len(list(Path("sigs", kind).glob("*.png"))) for kind in ("full_org", "full_forg")]
    [40, 20]
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamkit.apps.signatures.handwriting_fonts import HandFont, find_hand_fonts, require_hands
from siamkit.apps.signatures.render import (
    CANVAS,
    WriterStyle,
    draw_style,
    imitate,
    render_signature,
    vary,
)
from siamkit.run.files import write_json

FIRST_NAMES = (
    "Ada", "Alan", "Alice", "Amara", "Anton", "Beatrix", "Boris", "Carmen", "Cecil", "Clara",
    "Dmitri", "Edith", "Elena", "Felix", "Fiona", "Gustav", "Hannah", "Hugo", "Ingrid", "Isaac",
    "Jasper", "Julia", "Karim", "Klara", "Lena", "Louis", "Magnus", "Margaret", "Nadia",
    "Nikolai", "Olga", "Oscar", "Paula", "Quentin", "Rosa", "Rupert", "Selma", "Theo", "Ursula",
    "Victor", "Wanda", "Yusuf", "Zelda", "Bruno", "Delia", "Emil", "Greta", "Ivan", "Joan",
    "Lucia",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Becker", "Castillo", "Dalton", "Eriksen", "Fischer", "Garner", "Holloway",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quinn", "Rossi", "Schneider", "Tanaka", "Underwood", "Vasquez", "Whitfield", "Xavier",
    "Yilmaz", "Zimmermann", "Bellamy", "Crawford", "Dubois", "Ferreira", "Gallagher",
    "Hartmann", "Kaplan", "Lambert", "Mercer", "Novak", "Oliveira", "Prescott", "Romano",
    "Sinclair", "Thornton", "Vogel", "Wakefield", "Bianchi", "Costa", "Fontaine", "Kimura",
    "Larsen", "Moretti", "Svensson",
)  # fmt: skip
PARTS = ("train", "val", "eval")
WRITER_COLUMNS = ("writer", "part", "name", "signature", "font", "slant", "rotation", "stroke",
                  "jitter", "spacing", "scale", "ink", "underline")  # fmt: skip


@dataclass(frozen=True)
class Writer:
    """One synthetic writer.

    Attributes:
        id: 1-based writer number (CEDAR's ``W``).
        part: ``train``, ``val`` or ``eval``.
        name: The writer's full name.
        text: How the writer signs it (``M. Holloway``).
        style: The writer's hand and habits.
    """

    id: int
    part: str
    name: str
    text: str
    style: WriterStyle


@dataclass(frozen=True)
class Forgery:
    """One skilled forgery: ``forger`` writes ``victim``'s signature (CEDAR's sample ``sample``)."""

    victim: int
    sample: int
    forger: int


@dataclass(frozen=True)
class SignatureSetInfo:
    """What :func:`render_signature_set` wrote.

    Attributes:
        root: The folder.
        writers: Every writer, in id order.
        forgeries: Every skilled forgery.
        parts: Writer ranges per part, e.g. ``{"train": "1-30", "val": "31-40", ...}``.
        fonts: Hand names per part (disjoint across parts).
    """

    root: Path
    writers: list[Writer]
    forgeries: list[Forgery]
    parts: dict[str, str]
    fonts: dict[str, list[str]]


def writer_names(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct full names from the built-in first and last names, in a seeded order.

    Example:
        >>> writer_names(2, seed=0)  # two distinct names, the same for the same seed
        ['Julia Larsen', 'Cecil Novak']
    """
    total = len(FIRST_NAMES) * len(LAST_NAMES)
    if not 0 <= count <= total:
        raise ValueError(f"can name up to {total} writers, asked for {count}")
    rng = np.random.default_rng([seed, 101])
    picks = rng.choice(total, size=count, replace=False)
    return [f"{FIRST_NAMES[i // len(LAST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]}" for i in picks]


def signature_text(name: str, rng: np.random.Generator) -> str:
    """The form a writer signs ``name`` in: full, initial + surname, name + initial, surname."""
    first, last = name.split(" ", 1)
    forms = (name, f"{first[0]}. {last}", f"{first} {last[0]}.", last)
    return forms[int(rng.choice(len(forms), p=(0.45, 0.3, 0.15, 0.1)))]


def part_sizes(writers: int, val_writers: int, eval_writers: int) -> dict[str, int]:
    """Writers per part; a ValueError when the numbers do not leave 2+ training writers."""
    if min(writers, val_writers, eval_writers) < 0:
        raise ValueError("writer counts must be >= 0")
    train = writers - val_writers - eval_writers
    if train < 2:
        raise ValueError(
            f"{writers} writers with {val_writers} validation and {eval_writers} evaluation "
            f"writers leave {train} to train on; at least 2 are needed (raise --writers)"
        )
    return {"train": train, "val": val_writers, "eval": eval_writers}


def split_fonts(
    hands: Sequence[HandFont], sizes: dict[str, int], seed: int = 0
) -> dict[str, list[HandFont]]:
    """Disjoint hands per non-empty part, in proportion to its writers (1+ each, seeded).

    Raises:
        ValueError: Fewer hands than non-empty parts (naming the packages to install).
    """
    parts = [p for p in PARTS if sizes.get(p, 0) > 0]
    require_hands(hands, len(parts))
    order = np.random.default_rng([seed, 202]).permutation(len(hands))
    shuffled = [hands[i] for i in order]
    total = sum(sizes[p] for p in parts)
    counts = {p: max(1, round(len(hands) * sizes[p] / total)) for p in parts if p != "train"}
    counts["train"] = len(hands) - sum(counts.values())
    while counts["train"] < 1:  # rounding took too many: give one back from the largest
        donor = max((p for p in counts if p != "train"), key=lambda p: counts[p])
        counts[donor] -= 1
        counts["train"] += 1
    out: dict[str, list[HandFont]] = {}
    start = 0
    for p in parts:
        out[p] = shuffled[start : start + counts[p]]
        start += counts[p]
    return out


def make_writers(
    writers: int,
    val_writers: int = 0,
    eval_writers: int = 0,
    hands: Sequence[HandFont] | None = None,
    seed: int = 0,
) -> list[Writer]:
    """Writers ``1..N`` with names and styles; parts in order train, val, eval; fonts disjoint.

    Args:
        writers: Total writers N.
        val_writers, eval_writers: Writers in the validation and evaluation parts (the last
            ones); the rest train.
        hands: Fonts to write in; default every installed hand (:func:`find_hand_fonts`).
        seed: Fixes names, fonts and styles.
    """
    sizes = part_sizes(writers, val_writers, eval_writers)
    fonts = split_fonts(find_hand_fonts() if hands is None else list(hands), sizes, seed)
    names = writer_names(writers, seed)
    out: list[Writer] = []
    for part in PARTS:
        for k in range(sizes[part]):
            wid = len(out) + 1
            rng = np.random.default_rng([seed, 303, wid])
            font = fonts[part][k % len(fonts[part])]
            name = names[wid - 1]
            out.append(Writer(wid, part, name, signature_text(name, rng), draw_style(font, rng)))
    return out


def assign_forgeries(
    writers: Sequence[Writer], per_writer: int, forgers_per_writer: int = 3, seed: int = 0
) -> list[Forgery]:
    """Skilled forgeries: for each writer, ``per_writer`` forgeries by other writers of its part.

    Each victim gets up to ``forgers_per_writer`` distinct forgers (fewer if its part is
    smaller), who share the samples in turn.
    """
    out: list[Forgery] = []
    for w in writers:
        others = [o.id for o in writers if o.part == w.part and o.id != w.id]
        if not others or per_writer == 0:
            continue
        rng = np.random.default_rng([seed, 404, w.id])
        k = min(forgers_per_writer, len(others))
        forgers = [int(f) for f in rng.choice(others, size=k, replace=False)]
        out += [Forgery(w.id, s, forgers[(s - 1) % k]) for s in range(1, per_writer + 1)]
    return out


def render_signature_set(
    out: str | Path,
    writers: int = 60,
    val_writers: int = 10,
    eval_writers: int = 20,
    genuine: int = 24,
    forgeries: int = 24,
    forgers_per_writer: int = 3,
    hands: Sequence[HandFont] | None = None,
    seed: int = 0,
    canvas: tuple[int, int] = CANVAS,
    overwrite: bool = False,
) -> SignatureSetInfo:
    """Render a signature set into ``out`` in CEDAR's layout (see the module docstring).

    Every image depends only on ``seed`` and its own (writer, sample, kind), so a larger set
    begins with the same images as a smaller one with the same writer split.

    Args:
        out: Folder to write; must not hold a set already unless ``overwrite``.
        writers, val_writers, eval_writers: Writers in all and in the validation and
            evaluation parts (CEDAR has 55 writers).
        genuine, forgeries: Genuine signatures and skilled forgeries per writer (CEDAR: 24).
        forgers_per_writer: Distinct forgers of each writer.
        hands: Fonts; default every installed hand-style font.
        seed: Fixes everything.
        canvas: ``(H, W)`` of each image.
        overwrite: Replace a set already in ``out`` (only its own files are removed).
    """
    if genuine < 2:
        raise ValueError(f"each writer needs at least 2 genuine signatures, got {genuine}")
    if forgeries < 0:
        raise ValueError(f"forgeries per writer must be >= 0, got {forgeries}")
    root = Path(out)
    _prepare(root, overwrite)
    people = make_writers(writers, val_writers, eval_writers, hands, seed)
    forged = assign_forgeries(people, forgeries, forgers_per_writer, seed)
    by_id = {w.id: w for w in people}
    for w in people:
        for s in range(1, genuine + 1):
            rng = np.random.default_rng([seed, 505, w.id, s])
            img = render_signature(w.text, vary(w.style, rng), rng, canvas)
            img.save(root / "full_org" / f"original_{w.id}_{s}.png")
    for f in forged:
        victim, forger = by_id[f.victim], by_id[f.forger]
        rng = np.random.default_rng([seed, 606, f.victim, f.sample])
        style = vary(imitate(forger.style, victim.style), rng, amount=1.3)
        img = render_signature(victim.text, style, rng, canvas)
        img.save(root / "full_forg" / f"forgeries_{f.victim}_{f.sample}.png")
    info = SignatureSetInfo(root, people, forged, _ranges(people), _fonts(people))
    _write_metadata(info)
    return info


def _prepare(root: Path, overwrite: bool) -> None:
    own = [root / "full_org", root / "full_forg"]
    if any(p.exists() for p in own):
        if not overwrite:
            raise ValueError(
                f"{root} already holds a signature set (full_org/ or full_forg/); choose another "
                "--out or pass --overwrite"
            )
        for p in own:
            shutil.rmtree(p, ignore_errors=True)
    for p in own:
        p.mkdir(parents=True, exist_ok=True)


def _ranges(people: Sequence[Writer]) -> dict[str, str]:
    out = {}
    for part in PARTS:
        ids = [w.id for w in people if w.part == part]
        if ids:
            out[part] = f"{ids[0]}-{ids[-1]}" if len(ids) > 1 else str(ids[0])
    return out


def _fonts(people: Sequence[Writer]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in people:
        names = out.setdefault(w.part, [])
        if w.style.font.name not in names:
            names.append(w.style.font.name)
    return out


def _write_metadata(info: SignatureSetInfo) -> None:
    root = info.root
    with (root / "writers.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(WRITER_COLUMNS)
        for w in info.writers:
            s = w.style
            style = (s.slant, s.rotation, s.stroke, s.jitter, s.spacing, s.scale, s.ink)
            out.writerow(
                [w.id, w.part, w.name, w.text, s.font.name]
                + [f"{v:.4f}" if isinstance(v, float) else v for v in style]
                + [int(s.underline)]
            )
    with (root / "forgers.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "victim", "forger"])
        for g in info.forgeries:
            out.writerow([f"full_forg/forgeries_{g.victim}_{g.sample}.png", g.victim, g.forger])
    splits = {"writers": info.parts, "fonts": info.fonts}
    write_json(root / "splits.json", splits)
