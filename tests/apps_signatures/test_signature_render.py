"""The synthetic signature set: deterministic, writers and hands split, forgeries as defined."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from siamkit.apps.signatures.dataset import (
    assign_forgeries,
    make_writers,
    render_signature_set,
    split_fonts,
    writer_names,
)
from siamkit.apps.signatures.render import imitate, render_signature

from .hands import hands_for_tests

SMALL = {"writers": 8, "val_writers": 2, "eval_writers": 3, "genuine": 2, "forgeries": 2}
TINY = {"writers": 4, "val_writers": 1, "eval_writers": 1, "genuine": 2, "forgeries": 0}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_set_other_seed_other_set(tmp_path: Path) -> None:
    hands = hands_for_tests()
    a = render_signature_set(tmp_path / "a", hands=hands, seed=3, **SMALL)
    render_signature_set(tmp_path / "b", hands=hands, seed=3, **SMALL)
    render_signature_set(tmp_path / "c", hands=hands, seed=4, **SMALL)
    da, db, dc = (_digests(tmp_path / n) for n in "abc")
    assert da == db
    n_images = SMALL["writers"] * (SMALL["genuine"] + SMALL["forgeries"])
    assert sum(k.endswith(".png") for k in da) == n_images
    assert sum(da[k] != dc.get(k) for k in da if k.endswith(".png")) == n_images
    assert len(a.forgeries) == SMALL["writers"] * SMALL["forgeries"]


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    hands = hands_for_tests()
    render_signature_set(tmp_path, hands=hands, **TINY)
    with pytest.raises(ValueError, match="--overwrite"):
        render_signature_set(tmp_path, hands=hands, **TINY)
    render_signature_set(tmp_path, hands=hands, overwrite=True, **TINY)


def test_writer_parts_and_hands_are_disjoint(tmp_path: Path) -> None:
    hands = hands_for_tests()
    info = render_signature_set(tmp_path, hands=hands, **SMALL)
    parts = {p: [w.id for w in info.writers if w.part == p] for p in ("train", "val", "eval")}
    assert parts == {"train": [1, 2, 3], "val": [4, 5], "eval": [6, 7, 8]}
    assert info.parts == {"train": "1-3", "val": "4-5", "eval": "6-8"}
    fonts = {p: {w.style.font.name for w in info.writers if w.part == p} for p in parts}
    assert not fonts["train"] & fonts["val"]
    assert not fonts["train"] & fonts["eval"]
    assert not fonts["val"] & fonts["eval"]
    saved = json.loads((tmp_path / "splits.json").read_text())
    assert saved["writers"] == info.parts
    assert {p: set(f) for p, f in saved["fonts"].items()} == fonts
    names = [w.name for w in info.writers]
    assert len(set(names)) == len(names)


def test_split_fonts_gives_every_part_a_hand_and_uses_each_once() -> None:
    hands = hands_for_tests()[:4]
    out = split_fonts(hands, {"train": 50, "val": 1, "eval": 1}, seed=0)
    assert [len(out[p]) for p in ("train", "val", "eval")] == [2, 1, 1]
    used = [h.name for p in out for h in out[p]]
    assert sorted(used) == sorted(h.name for h in hands)
    with pytest.raises(ValueError, match="apt-get install"):
        split_fonts(hands[:2], {"train": 5, "val": 1, "eval": 1})


def test_skilled_forgery_is_the_same_name_by_another_writer_of_the_same_part(
    tmp_path: Path,
) -> None:
    hands = hands_for_tests()
    writers = make_writers(9, val_writers=3, eval_writers=3, hands=hands, seed=1)
    forged = assign_forgeries(writers, per_writer=6, forgers_per_writer=2, seed=1)
    by_id = {w.id: w for w in writers}
    for f in forged:
        assert f.forger != f.victim
        assert by_id[f.forger].part == by_id[f.victim].part
    for w in writers:
        mine = [f for f in forged if f.victim == w.id]
        assert [f.sample for f in mine] == list(range(1, 7))
        assert len({f.forger for f in mine}) == 2
    # the forger's hand and pen, the victim's layout
    v, f = writers[0], writers[1]
    style = imitate(f.style, v.style)
    assert (style.font, style.stroke, style.jitter) == (
        f.style.font,
        f.style.stroke,
        f.style.jitter,
    )
    assert (style.slant, style.scale, style.underline) == (
        v.style.slant,
        v.style.scale,
        v.style.underline,
    )
    # forgers.csv records the same assignment
    info = render_signature_set(tmp_path, hands=hands, **SMALL)
    with (tmp_path / "forgers.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(int(r["victim"]), int(r["forger"])) for r in rows] == [
        (g.victim, g.forger) for g in info.forgeries
    ]
    with (tmp_path / "writers.csv").open() as fh:
        texts = {int(r["writer"]): r["signature"] for r in csv.DictReader(fh)}
    assert texts == {w.id: w.text for w in info.writers}


def test_a_signature_is_dark_ink_on_white_paper_of_the_canvas_size() -> None:
    hands = hands_for_tests()
    writers = make_writers(4, hands=hands, seed=0)
    rng = np.random.default_rng(0)
    img = np.asarray(render_signature(writers[0].text, writers[0].style, rng, (48, 160)))
    assert img.shape == (48, 160)
    assert img[0].min() == 255 and img[:, 0].min() == 255  # margins stay blank
    assert img.min() < 128  # some ink
    assert (img < 250).mean() < 0.5  # mostly paper
    with pytest.raises(ValueError, match="non-empty"):
        render_signature(" ", writers[0].style, rng)


def test_writer_names_are_distinct_and_seeded() -> None:
    assert writer_names(200, seed=0) == writer_names(200, seed=0)
    assert len(set(writer_names(200, seed=0))) == 200
    assert writer_names(5, seed=0) != writer_names(5, seed=1)
    with pytest.raises(ValueError, match="up to"):
        writer_names(10**6)
