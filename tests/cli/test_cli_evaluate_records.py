"""``siamkit evaluate`` on trained classes, on a run without evaluation classes, and the
operating point it prints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from siamkit.cli.main import app

runner = CliRunner()
FAST = ["--pairs", "400", "--bootstrap", "5", "--episodes", "5"]


def _copy(trained_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    for stale in run.glob("evaluation-*.json"):
        stale.unlink()
    return run


def _flat(text: str) -> str:
    """Console text with its line wrapping undone (words joined by single spaces)."""
    return " ".join(text.split())


def test_trained_classes_are_written_apart_with_a_warning(
    trained_run: Path, tmp_path: Path
) -> None:
    run = _copy(trained_run, tmp_path)
    r = runner.invoke(app, ["evaluate", str(run), "--json", *FAST])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["held_out"] is True and "warning" not in r.stderr
    held_out = (run / "evaluation-best.json").read_bytes()
    metrics = (run / "metrics.json").read_bytes()

    r = runner.invoke(app, ["evaluate", str(run), "--classes", "0-4", *FAST])
    assert r.exit_code == 0, r.output
    warning = _flat(r.stderr)
    assert "warning:" in warning
    assert "include classes the run trained on (0, 1, 2, 3, 4)" in warning
    assert "not held-out figures" in warning
    assert str(run / "evaluation-seen-best.json") in r.stderr.replace("\n", "")
    assert "including classes trained on" in _flat(r.stdout)
    seen = json.loads((run / "evaluation-seen-best.json").read_text())
    assert seen["held_out"] is False and seen["seen_in_training"] == ["0", "1", "2", "3", "4"]
    assert (run / "evaluation-best.json").read_bytes() == held_out
    assert (run / "metrics.json").read_bytes() == metrics


def test_run_without_eval_classes(trained_run: Path, tmp_path: Path) -> None:
    run = _copy(trained_run, tmp_path)
    for path in (run / "config.json", run / "best" / "config.json", run / "last" / "config.json"):
        saved = json.loads(path.read_text())
        saved["train"].update(train_classes="all", eval_classes="none")
        path.write_text(json.dumps(saved))
    r = runner.invoke(app, ["evaluate", str(run), *FAST])
    assert r.exit_code == 2
    message = _flat(r.stderr)
    assert "error:" in message and "has no evaluation classes" in message
    assert "--data SOURCE --classes C" in message
    r = runner.invoke(app, ["evaluate", str(run), "--classes", "5-9", "--json", *FAST])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["seen_in_training"] == ["5", "6", "7", "8", "9"]
    assert "not held-out figures" in _flat(r.stderr)


def test_operating_point_line(trained_run: Path, tmp_path: Path) -> None:
    run = _copy(trained_run, tmp_path)
    (run / "calibration.json").unlink(missing_ok=True)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["threshold"] = 0.5
    metrics["operating_point"] = {
        "threshold": 0.5, "target_far": 0.05, "promised_far": 0.048, "promised_frr": 0.21,
        "fitted_on": "held-out classes", "classes": ["3", "4"], "pairs": 500,
    }  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(metrics))
    r = runner.invoke(app, ["evaluate", str(run), *FAST])
    assert r.exit_code == 0, r.output
    record = json.loads((run / "evaluation-best.json").read_text())
    op = record["operating_point"]
    text = _flat(r.stdout)
    assert (
        f"operating point: threshold 0.5000 (from training, target FAR 0.05); FAR promised "
        f"0.048, achieved {op['far']:.3f}; FRR promised 0.210, achieved {op['frr']:.3f}"
    ) in text
    assert "calibrated" not in text
