"""The rendered glyph set: deterministic, one class per letter, split by script, no tofu."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.apps.glyphs.dataset import GlyphSetConfig, render_glyph_set, split_scripts
from siamkit.apps.glyphs.render import (
    Distortion,
    DistortionRanges,
    is_drawn,
    load_font,
    notdef_image,
    render_glyph,
)
from siamkit.apps.glyphs.scripts import SCRIPTS, font_cmap, script_letters
from siamkit.apps.omniglot.layout import list_characters, omniglot_sets

from .glyph_fonts import font_folder

SCRIPTS_USED = ("Armenian", "Cyrillic", "Greek", "Latin")


def _config(fonts: Path, **overrides: object) -> GlyphSetConfig:
    values: dict[str, object] = {
        "size": 16,
        "instances": 3,
        "min_fonts": 2,
        "min_chars": 4,
        "max_chars": 6,
        "eval_fraction": 0.5,
        "val_scripts": 1,
        "scripts": SCRIPTS_USED,
        "font_dirs": (str(fonts),),
    }
    values.update(overrides)
    return GlyphSetConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    tmp = tmp_path_factory.mktemp("glyphs")
    fonts = font_folder(tmp)
    out = tmp / "set"
    manifest = render_glyph_set(_config(fonts), out)
    return out, manifest, fonts


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_same_seed_same_bytes_other_seed_other_images(rendered, tmp_path):
    out, manifest, fonts = rendered
    again = render_glyph_set(_config(fonts), tmp_path / "again")
    assert again == manifest
    assert _files(tmp_path / "again") == _files(out)
    other = render_glyph_set(_config(fonts, seed=1), tmp_path / "other")
    assert _files(tmp_path / "other") != _files(out)
    assert other["num_classes"] == manifest["num_classes"]  # the seed moves pixels, not classes


def test_one_class_per_letter_of_its_script_with_every_instance(rendered):
    out, manifest, _ = rendered
    sets = {"background": "images_background", "evaluation": "images_evaluation"}
    for side, folder in sets.items():
        for script in manifest[side]:
            letters = {f"U{ord(ch):04X}" for ch in script_letters(script)}
            classes = sorted(p.name for p in (out / folder / script).iterdir())
            assert classes == [c["folder"] for c in manifest["scripts"][script]]
            assert 4 <= len(classes) <= 6
            assert set(classes) <= letters  # letters of that script's blocks only
            for c in classes:
                pngs = sorted((out / folder / script / c).glob("*.png"))
                assert [p.name for p in pngs] == [f"{c}_{j:02d}.png" for j in (1, 2, 3)]
                assert Image.open(pngs[0]).size == (16, 16)


def test_scripts_are_split_whole_and_disjoint(rendered):
    out, manifest, _ = rendered
    background, evaluation = set(manifest["background"]), set(manifest["evaluation"])
    assert background and evaluation and not background & evaluation
    assert background | evaluation == set(manifest["scripts"])
    characters = list_characters(omniglot_sets(str(out)))
    owner = {(c.set_name, c.alphabet) for c in characters}
    assert {a for s, a in owner if s == "background"} == background
    assert {a for s, a in owner if s == "evaluation"} == evaluation


def test_every_listed_font_draws_its_letter_and_no_image_is_tofu(rendered):
    _, manifest, fonts = rendered
    by_name = {p.name: p.resolve() for p in fonts.iterdir()}
    for script, classes in manifest["scripts"].items():
        assert script in SCRIPTS
        for c in classes:
            assert len(c["fonts"]) >= 2
            for name in c["fonts"]:
                path = by_name[name]
                assert ord(c["char"]) in font_cmap(path)
                font = load_font(path, 16)
                base = render_glyph(font, c["char"], 16)
                assert not np.array_equal(base, notdef_image(font, 16))
                assert (255 - base.astype(int)).sum() > 255 * 4  # some ink


def test_a_font_lacking_a_letter_draws_tofu_and_is_rejected(rendered):
    _, _, fonts = rendered
    for path in sorted(p.resolve() for p in fonts.iterdir()):
        if 0x0915 not in font_cmap(path):  # DEVANAGARI LETTER KA: none of these fonts has it
            font = load_font(path, 16)
            tofu = render_glyph(font, "\u0915", 16)
            assert np.array_equal(tofu, notdef_image(font, 16))
            assert not is_drawn(tofu, notdef_image(font, 16))
            return
    pytest.skip("every test font draws Devanagari")


def test_manifest_and_recipe_describe_the_written_set(rendered):
    out, manifest, _ = rendered
    saved = json.loads((out / "glyphs.json").read_text())
    assert saved["background"] == manifest["background"]
    recipe = (out / "recipe.yaml").read_text()
    assert f'data: "omniglot:{out}"' in recipe
    assert "val_fraction: 0.0" in recipe


def test_distortion_identity_and_ranges(rendered):
    _, _, fonts = rendered
    latin = [p.resolve() for p in sorted(fonts.iterdir()) if ord("A") in font_cmap(p.resolve())]
    font = load_font(latin[0], 16)
    plain = render_glyph(font, "A", 16)
    assert np.array_equal(render_glyph(font, "A", 16, Distortion()), plain)
    rng = np.random.default_rng(0)
    ranges = DistortionRanges()
    draws = [ranges.sample(rng) for _ in range(200)]
    assert all(abs(d.rotation) <= 10 and 0.9 <= d.scale <= 1.1 for d in draws)
    assert {d.thickness for d in draws} == {-1, 0, 1, 2}
    assert not np.array_equal(render_glyph(font, "A", 16, Distortion(rotation=10.0)), plain)


def test_bad_settings_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="unknown script 'Klingon'"):
        GlyphSetConfig(scripts=("Klingon",))
    with pytest.raises(ValueError, match="min_chars <= max_chars"):
        GlyphSetConfig(min_chars=50, max_chars=40)
    (tmp_path / "exists").mkdir()
    with pytest.raises(ValueError, match="--overwrite"):
        render_glyph_set(GlyphSetConfig(), tmp_path / "exists")


def test_too_few_scripts_for_training_and_validation_are_refused_before_rendering() -> None:
    config = GlyphSetConfig(eval_fraction=0.5, seed=0)
    background, evaluation = split_scripts(["a", "b", "c", "d"], config)
    assert len(background) == 2 and len(evaluation) == 2
    assert sorted(background + evaluation) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="need at least 2 to train on"):
        split_scripts(["a", "b"], config)  # one to train on is too few: validation needs one
    with pytest.raises(ValueError, match="val_scripts must be at least 1"):
        GlyphSetConfig(val_scripts=0)
