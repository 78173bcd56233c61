"""A gallery moved together with its run keeps working; a run moved alone is named, and
`--model` points the gallery at its new place (the fingerprint is still checked)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from siamkit.cli.main import app

pytest.importorskip("faiss")


def _people(folder: Path) -> Path:
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for i in range(2):
            pixels = np.random.default_rng(hash((label, i)) % 1000).integers(0, 256, (8, 8))
            Image.fromarray(pixels.astype(np.uint8)).save(folder / label / f"{i}.png")
    return folder


def test_a_gallery_moves_with_its_run_and_can_be_pointed_at_a_moved_run(
    trained_run: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    shutil.copytree(trained_run, home / "run")
    people = _people(tmp_path / "people")
    r = runner.invoke(app, ["gallery", "create", str(home / "g"), "--model", str(home / "run")])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["gallery", "enroll", str(home / "g"), str(people)]).exit_code == 0
    query = str(people / "a" / "0.png")

    moved = tmp_path / "elsewhere" / "home"
    shutil.move(str(home), str(moved))  # run and gallery together
    r = runner.invoke(app, ["gallery", "identify", str(moved / "g"), query, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["label"] == "a"

    shutil.move(str(moved / "run"), str(tmp_path / "run-alone"))  # the run alone
    r = runner.invoke(app, ["gallery", "identify", str(moved / "g"), query])
    assert r.exit_code == 2 and "--model" in " ".join(r.output.split())
    r = runner.invoke(
        app, ["gallery", "identify", str(moved / "g"), query, "--model", str(tmp_path / "run-alone"), "--json"]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["label"] == "a"
