"""Issue 25: a run whose files are damaged is refused with one error naming the file and the
fix, and reading it changes nothing.

For each file a run holds and each kind of damage (cut short, emptied, garbled, well-formed JSON
of the wrong types), the readers (``open_run``, ``load_run``, a resume) raise a ValueError whose
message names the file, and the command line (``siamkit verify``) exits with status 2 and no
traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.data import load_data
from siamkit.run import open_run
from siamkit.run.checkpoint import load_run
from siamkit.training import TrainConfig, train

runner = CliRunner()

FILES = [
    "config.json",
    "best/config.json",
    "best/model.safetensors",
    "metrics.json",
    "calibration.json",
    "last/trainer_state.pt",
]
DAMAGES = ["truncate", "empty", "garble", "wrong_types"]
# JSON of the right shape with a value of the wrong type, per JSON file
WRONG_TYPES = {
    "config.json": lambda d: {**d, "train": "digits", "model": 16},
    "best/config.json": lambda d: {**d, "train": {**d["train"], "embedding_dim": "sixteen"}},
    "metrics.json": lambda d: {**d, "threshold": "high"},
    "calibration.json": lambda d: {**d, "threshold": [0.5]},
}
CASES = [
    (f, d) for f in FILES for d in DAMAGES if d != "wrong_types" or f in WRONG_TYPES
]  # fmt: skip


@pytest.fixture(scope="module")
def calibrated_run(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trained run with a calibration.json (every file a run holds)."""
    run = tmp_path_factory.mktemp("corruption") / "run"
    shutil.copytree(trained_run, run)
    r = runner.invoke(app, ["calibrate", str(run), "--pairs", "500", "--json"])
    assert r.exit_code == 0, r.output
    assert (run / "calibration.json").is_file() and (run / "last/trainer_state.pt").is_file()
    return run


def _damage(path: Path, damage: str, name: str) -> None:
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garble":
        rng = np.random.default_rng(0)
        path.write_bytes(bytes(rng.integers(0, 256, len(data), dtype=np.uint8)))
    else:
        path.write_text(json.dumps(WRONG_TYPES[name](json.loads(data))))


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def _digit(folder: Path, k: int) -> str:
    data = load_data("digits")
    path = folder / f"d{k}.png"
    Image.fromarray((data.x[k, 0].numpy() * 255).round().astype(np.uint8)).save(path)
    return str(path)


def _read(run: Path, name: str) -> None:
    """What reads ``name``: a resume for the trainer state, else the records and the network."""
    if name == "last/trainer_state.pt":
        saved = json.loads((run / "config.json").read_text())["train"]
        config = TrainConfig(**{**saved, "epochs": saved["epochs"] + 1, "out": str(run)})
        train(config, resume=True, progress=False)
        return
    open_run(run)
    load_run(run)


@pytest.mark.parametrize(("name", "damage"), CASES)
def test_damaged_file_is_named_and_nothing_changes(
    calibrated_run: Path, tmp_path: Path, name: str, damage: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(calibrated_run, run)
    _damage(run / name, damage, name)
    before = _snapshot(run)
    with pytest.raises(ValueError) as e:
        _read(run, name)
    message = " ".join(str(e.value).split())
    assert str(run / name) in message, message
    assert any(fix in message for fix in ("retrain", "restore", "--overwrite", "calibrate"))
    assert _snapshot(run) == before
    if name != "last/trainer_state.pt":
        r = runner.invoke(app, ["verify", str(run), _digit(tmp_path, 0), _digit(tmp_path, 1)])
        assert r.exit_code == 2, r.output
        assert isinstance(r.exception, SystemExit), r.exception
        assert str(run / name) in " ".join(r.output.replace("\n", "").split()), r.output
        assert _snapshot(run) == before


def test_missing_best_config_is_named_not_the_weights(calibrated_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(calibrated_run, run)
    (run / "best" / "config.json").unlink()
    with pytest.raises(ValueError) as e:
        load_run(run)
    assert str(run / "best" / "config.json") in str(e.value)
    assert "model.safetensors" not in str(e.value)


def test_weights_follow_the_umask_like_the_other_files(calibrated_run: Path) -> None:
    weights = (calibrated_run / "best" / "model.safetensors").stat().st_mode & 0o777
    config = (calibrated_run / "best" / "config.json").stat().st_mode & 0o777
    assert weights == config
