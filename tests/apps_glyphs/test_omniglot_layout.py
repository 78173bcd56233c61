"""The Omniglot loader on a tiny folder in Omniglot's published layout, made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from siamkit.apps.omniglot.layout import index_ranges, omniglot_sets, recipe_config
from siamkit.data import load_data, parse_classes
from siamkit.data.sources import SourceOptions

# background: 2 alphabets (Greek: 2 characters, Alphabet_of_the_Magi: 3); evaluation: 1 (2)
LAYOUT = {
    "images_background": {"Greek": 2, "Alphabet_of_the_Magi": 3},
    "images_evaluation": {"Angelic": 2},
}
DRAWERS = 3


def make_layout(root: Path, size: int = 105) -> dict[str, np.ndarray]:
    """Omniglot-style 1-bit PNGs (black strokes on white); returns each file's pixels."""
    rng = np.random.default_rng(0)
    pixels = {}
    for set_name, alphabets in LAYOUT.items():
        for alphabet, n_chars in alphabets.items():
            for c in range(1, n_chars + 1):
                folder = root / set_name / alphabet / f"character{c:02d}"
                folder.mkdir(parents=True)
                for d in range(1, DRAWERS + 1):
                    ink = rng.random((size, size)) < 0.1
                    path = folder / f"{c:04d}_{d:02d}.png"
                    Image.fromarray(~ink).convert("1").save(path)
                    pixels[str(path)] = (~ink).astype(np.float32)
    return pixels


def test_both_sets_background_first_one_class_per_character(tmp_path):
    pixels = make_layout(tmp_path)
    data = load_data(f"omniglot:{tmp_path}")
    assert data.class_names == [
        "Alphabet_of_the_Magi/character01",
        "Alphabet_of_the_Magi/character02",
        "Alphabet_of_the_Magi/character03",
        "Greek/character01",
        "Greek/character02",
        "Angelic/character01",
        "Angelic/character02",
    ]
    assert data.x.shape == (7 * DRAWERS, 1, 105, 105)
    assert data.y.tolist() == [c for c in range(7) for _ in range(DRAWERS)]
    assert data.sources is not None
    for i, src in enumerate(data.sources):  # pixels as in the files: white 1, ink 0
        assert torch.equal(data.x[i, 0], torch.from_numpy(pixels[src]))
    assert data.sources[0].endswith("Alphabet_of_the_Magi/character01/0001_01.png")


def test_set_selectors_and_a_bare_set_folder(tmp_path):
    make_layout(tmp_path)
    background = load_data(f"omniglot:{tmp_path},background")
    evaluation = load_data(f"omniglot:{tmp_path},evaluation")
    bare = load_data(f"omniglot:{tmp_path / 'images_evaluation'}")
    assert len(background.class_names) == 5 and len(evaluation.class_names) == 2
    assert bare.class_names == evaluation.class_names
    assert torch.equal(bare.x, evaluation.x)


def test_image_size_resizes_as_pil_does(tmp_path):
    make_layout(tmp_path)
    data = load_data(f"omniglot:{tmp_path},evaluation", SourceOptions(image_size=28))
    assert data.x.shape == (2 * DRAWERS, 1, 28, 28)
    assert data.sources is not None
    with Image.open(data.sources[0]) as im:
        ref = np.asarray(im.convert("L").resize((28, 28), Image.Resampling.BILINEAR)) / 255.0
    assert np.allclose(data.x[0, 0].numpy(), ref, atol=1 / 255)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_data(f"omniglot:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="needs a path"):
        load_data("omniglot")
    make_layout(tmp_path)
    with pytest.raises(ValueError, match="holds neither"):
        load_data(f"omniglot:{tmp_path / 'images_background'},evaluation")
    (tmp_path / "images_evaluation" / "Greek" / "character01").mkdir(parents=True)
    Image.new("1", (4, 4), 1).save(tmp_path / "images_evaluation/Greek/character01/x.png")
    with pytest.raises(ValueError, match="alphabet 'Greek' is in both"):
        load_data(f"omniglot:{tmp_path}")
    empty = tmp_path / "empty" / "images_background"
    empty.mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no ALPHABET/CHARACTER"):
        load_data(f"omniglot:{empty.parent}")


def test_index_ranges_by_hand():
    assert index_ranges([0, 1, 2, 5]) == "0-2,5"
    assert index_ranges([7]) == "7"
    assert index_ranges([3, 4, 9, 10, 12]) == "3-4,9-10,12"


def test_recipe_trains_on_background_validates_on_a_whole_alphabet(tmp_path):
    make_layout(tmp_path)
    names = load_data(f"omniglot:{tmp_path}").class_names
    cfg = recipe_config(str(tmp_path), val_alphabets=1, seed=0)
    train = parse_classes(str(cfg["train_classes"]), names)
    val = parse_classes(str(cfg["val_classes"]), names)
    evaluation = parse_classes(str(cfg["eval_classes"]), names)
    assert [names[i] for i in evaluation] == ["Angelic/character01", "Angelic/character02"]
    assert train == [0, 1, 2, 3, 4] and set(val) < set(train)
    held = {names[i].split("/")[0] for i in val}  # one whole background alphabet
    assert len(held) == 1
    assert val == [i for i in train if names[i].split("/")[0] in held]
    assert cfg["val_fraction"] == 0.0 and cfg["data"] == f"omniglot:{tmp_path}"
    assert cfg["refit"] is False  # calibration reads the validation alphabets: kept unseen
    with pytest.raises(ValueError, match=r"val_alphabets must be in 1\.\.1"):
        recipe_config(str(tmp_path), val_alphabets=2)


def test_sets_are_found_from_the_root(tmp_path):
    make_layout(tmp_path)
    assert [n for n, _ in omniglot_sets(str(tmp_path))] == ["background", "evaluation"]
