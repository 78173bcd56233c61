"""How enroll groups its inputs: files and texts in a row are read and embedded in one step;
folders, CSV files and .npy files keep their own steps, in the order given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.index.inputs import plan_enroll


def _image(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(path)
    return str(path)


def test_single_images_in_a_row_are_one_step_and_a_folder_breaks_the_row(tmp_path: Path) -> None:
    a, b = _image(tmp_path / "a.png"), _image(tmp_path / "b.png")
    _image(tmp_path / "people" / "ann" / "1.png")
    c = _image(tmp_path / "c.png")
    groups = plan_enroll([a, b, str(tmp_path / "people"), c], "x", "image")
    assert [g.sources for g in groups] == [
        [a, b],
        [str(tmp_path / "people" / "ann" / "1.png")],
        [c],
    ]
    assert [g.labels for g in groups] == [["x", "x"], ["x"], ["x"]]


def test_texts_in_a_row_are_one_step_with_a_label_each() -> None:
    groups = plan_enroll(["a cat sat", "a dog ran"], "pets", "text")
    assert [(g.sources, g.labels) for g in groups] == [
        (["a cat sat", "a dog ran"], ["pets", "pets"])
    ]


def test_npy_files_keep_a_step_each(tmp_path: Path) -> None:
    for name in ("a.npy", "b.npy"):
        np.save(tmp_path / name, np.zeros((3, 4), dtype=np.float32))
    groups = plan_enroll([str(tmp_path / "a.npy"), str(tmp_path / "b.npy")], "v", "vector")
    assert [g.sources for g in groups] == [[str(tmp_path / "a.npy")], [str(tmp_path / "b.npy")]]


def test_a_long_row_of_single_files_is_read_in_bounded_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import siamkit.index.inputs as inputs

    monkeypatch.setattr(inputs, "SINGLES_PER_STEP", 2)
    files = [_image(tmp_path / f"{i}.png") for i in range(5)]
    groups = plan_enroll(files, "x", "image")
    assert [g.sources for g in groups] == [files[0:2], files[2:4], files[4:5]]
