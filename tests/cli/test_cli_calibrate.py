"""``siamkit calibrate``: JSON and table output, the saved file, answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from siamkit.cli.calibrate import calibrate
from siamkit.run import Calibration
from siamkit.training import train

from conftest import tiny_config

runner = CliRunner()
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command("calibrate")(calibrate)


@app.callback()
def _group() -> None:
    """A group, as in siamkit.cli.main, so the command is invoked by name."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-calibrate") / "run"
    train(tiny_config(out, epochs=1), progress=False)
    return out


def test_calibrate_json_writes_the_run_file(run_dir: Path) -> None:
    r = runner.invoke(
        app, ["calibrate", str(run_dir), "--target-far", "0.05", "--pairs", "2000", "--json"]
    )
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    saved = Calibration.load(run_dir)
    assert saved is not None and result == saved.to_dict()
    assert result["target_far"] == 0.05 and result["objective"] is None
    assert result["calibration_rates"]["far"] <= 0.05 + 1.0 / 1000
    assert result["test_rates"] is not None
    assert result["source"]["calibration_classes"] and result["source"]["test_classes"]


def test_calibrate_table_and_isotonic(run_dir: Path) -> None:
    r = runner.invoke(
        app,
        ["calibrate", str(run_dir), "--objective", "f1", "--method", "isotonic", "--pairs", "1000"],
    )
    assert r.exit_code == 0, r.output
    for word in ("calibration", "test", "FAR", "FRR", "best f1", "calibration.json"):
        assert word in r.output
    saved = Calibration.load(run_dir)
    assert saved is not None and saved.method == "isotonic" and saved.objective == "f1"


def test_calibrate_warns_when_evaluation_classes_are_named(run_dir: Path) -> None:
    r = runner.invoke(
        app, ["calibrate", str(run_dir), "--classes", "0-9", "--pairs", "500", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert "warning" in r.stderr and "evaluation classes" in r.stderr
    assert json.loads(r.stdout)["source"]["eval_classes_used"] == ["5", "6", "7", "8", "9"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "auc"], "unknown objective 'auc'; choose one of: accuracy, f1"),
        (["--method", "beta"], "unknown method 'beta'; choose one of: platt, isotonic"),
        (["--target-far", "0"], "target_far must be in (0, 1)"),
        (["--target-far", "1.5"], "target_far must be in (0, 1)"),
        (["--split", "val"], "unknown split 'val'"),
        (["--classes", "42"], "class '42' is not in the data"),
        (["--classes", "3"], "at least 2 classes"),
        (["--pairs", "0"], "num_pairs must be >= 2"),
    ],
)
def test_calibrate_bad_input_exits_2(run_dir: Path, args: list[str], message: str) -> None:
    r = runner.invoke(app, ["calibrate", str(run_dir), *args])
    assert r.exit_code == 2, r.output
    assert "error:" in r.stderr and message in " ".join(r.stderr.split())


def test_calibrate_not_a_run_dir_exits_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["calibrate", str(tmp_path)])
    assert r.exit_code == 2
    assert "error:" in r.stderr and "not a finished siamkit run" in " ".join(r.stderr.split())
    assert not (tmp_path / "calibration.json").exists()


def test_calibrating_a_refit_run_on_its_training_classes_warns(
    trained_run: Path, tmp_path: Path
) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)  # a refit run: its final model saw classes 0-4
    r = runner.invoke(app, ["calibrate", str(run), "--pairs", "200"])
    assert r.exit_code == 0, r.output
    assert "optimistic" in r.stderr and "operating point" in r.stderr
