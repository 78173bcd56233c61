"""Where ``evaluate_run`` writes its record, and the operating point it reports.

Seen classes are written apart from the held-out figures; a run without evaluation classes
needs classes named; the achieved FAR/FRR are recounted here with plain numpy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.data import load_data
from siamkit.evaluation.calibrated_run import calibrate_run
from siamkit.evaluation.run_eval import evaluate_run, trained_class_indices

FAST = {"num_pairs": 400, "n_boot": 5, "episodes": 5}


@pytest.fixture
def run(trained_run: Path, tmp_path: Path) -> Path:
    """A private copy of the shared run, with no calibration or evaluation in it."""
    out = tmp_path / "run"
    shutil.copytree(trained_run, out)
    for stale in [out / "calibration.json", *out.glob("evaluation-*.json")]:
        stale.unlink(missing_ok=True)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in [k for k in metrics if k.startswith("evaluation_")]:
        del metrics[key]
    (out / "metrics.json").write_text(json.dumps(metrics))
    return out


def set_train_config(run_dir: Path, **values: str) -> None:
    """Edit the saved training config (``train`` in each ``config.json``, as load_run reads)."""
    for path in (run_dir / "config.json", run_dir / "best" / "config.json",
                 run_dir / "last" / "config.json"):  # fmt: skip
        saved = json.loads(path.read_text())
        saved["train"].update(values)
        path.write_text(json.dumps(saved))


def test_trained_class_indices() -> None:
    names = [str(i) for i in range(10)]
    assert trained_class_indices("all", names) == list(range(10))
    assert trained_class_indices("0-4", names) == [0, 1, 2, 3, 4]
    assert trained_class_indices("1,3", names) == [1, 3]


def test_seen_classes_are_written_apart(run: Path) -> None:
    _, held_out = evaluate_run(run, **FAST)
    assert held_out["held_out"] is True and held_out["seen_in_training"] == []
    assert held_out["file"] == "evaluation-best.json"
    saved_eval = (run / "evaluation-best.json").read_bytes()
    saved_metrics = (run / "metrics.json").read_bytes()
    assert json.loads(saved_metrics)["evaluation_best"] == held_out

    _, seen = evaluate_run(run, classes="3-7", **FAST)
    assert seen["held_out"] is False
    assert seen["seen_in_training"] == ["3", "4"]
    assert seen["classes"] == ["3", "4", "5", "6", "7"]
    assert seen["file"] == "evaluation-seen-best.json"
    assert json.loads((run / "evaluation-seen-best.json").read_text()) == seen
    assert (run / "evaluation-best.json").read_bytes() == saved_eval
    assert (run / "metrics.json").read_bytes() == saved_metrics


def test_no_eval_classes_needs_classes(run: Path) -> None:
    set_train_config(run, train_classes="all", eval_classes="none")
    with pytest.raises(ValueError, match="has no evaluation classes") as e:
        evaluate_run(run, **FAST)
    assert "--data SOURCE --classes C" in str(e.value)
    # its own data: every class was trained on, so the figures are seen ones
    _, record = evaluate_run(run, classes="5-9", **FAST)
    assert record["held_out"] is False
    assert record["seen_in_training"] == ["5", "6", "7", "8", "9"]
    assert (run / "evaluation-seen-best.json").is_file()
    assert not (run / "evaluation-best.json").exists()
    assert "evaluation_best" not in json.loads((run / "metrics.json").read_text())


def test_other_data_is_held_out(run: Path, tmp_path: Path) -> None:
    set_train_config(run, train_classes="all", eval_classes="none")
    digits = load_data("digits")
    folder = tmp_path / "mine"
    for digit in range(5):  # same pictures, another source: not what the run trained on
        (folder / f"d{digit}").mkdir(parents=True)
        for k, i in enumerate((digits.y == digit).nonzero().flatten()[:12].tolist()):
            pixels = (digits.x[i, 0].numpy() * 255).round().astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"d{digit}" / f"{k}.png")
    _, record = evaluate_run(run, data=f"image-folder:{folder}", classes="all", **FAST)
    assert record["held_out"] is True and record["seen_in_training"] == []
    assert record["classes"] == ["d0", "d1", "d2", "d3", "d4"]
    assert json.loads((run / "metrics.json").read_text())["evaluation_best"] == record


def _recount(suite_embeddings: np.ndarray, first: np.ndarray, second: np.ndarray,
             same: np.ndarray, threshold: float) -> tuple[float, float]:  # fmt: skip
    """FAR and FRR of ``distance <= threshold`` on euclidean pair distances, by hand."""
    d = np.sqrt(((suite_embeddings[first] - suite_embeddings[second]) ** 2).sum(axis=1))
    accept = d <= threshold
    return float(accept[~same].mean()), float((~accept[same]).mean())


def test_operating_point_from_training(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    threshold = 0.9 * float(metrics["threshold"])  # not the validation one: it must be used
    metrics["threshold"] = threshold
    metrics["operating_point"] = {
        "threshold": threshold, "target_far": 0.05, "promised_far": 0.048,
        "promised_frr": 0.21, "fitted_on": "held-out classes", "classes": ["4"], "pairs": 500,
    }  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(metrics))
    suite, record = evaluate_run(run, **FAST)
    assert suite.distance == "euclidean"
    emb = suite.embeddings.numpy().astype(np.float64)
    same = (suite.pairs.label == 0).numpy()
    far, frr = _recount(emb, suite.pairs.first.numpy(), suite.pairs.second.numpy(), same, threshold)
    op = record["operating_point"]
    assert 0.0 < far < 1.0 or 0.0 < frr < 1.0  # a threshold that decides something
    assert op["threshold"] == pytest.approx(threshold)
    assert op["from"] == "training"
    assert (op["target_far"], op["promised_far"], op["promised_frr"]) == (0.05, 0.048, 0.21)
    assert op["far"] == pytest.approx(far, abs=1e-9)
    assert op["frr"] == pytest.approx(frr, abs=1e-9)
    assert record["verification"]["far"]["value"] == op["far"]  # the suite's own figure


def test_operating_point_without_promise(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    metrics.pop("operating_point", None)  # an older run: a threshold, no operating_point
    (run / "metrics.json").write_text(json.dumps(metrics))
    _, record = evaluate_run(run, **FAST)
    op = record["operating_point"]
    assert op["from"] == "training"
    assert op["threshold"] == metrics["threshold"]
    assert (op["target_far"], op["promised_far"], op["promised_frr"]) == (None, None, None)


def test_training_calibration_file_is_still_from_training(run: Path, trained_run: Path) -> None:
    """Training saves its operating point as calibration.json too; that is not `calibrate`."""
    if not (trained_run / "calibration.json").is_file():
        pytest.skip("this trainer writes no calibration.json")
    shutil.copy(trained_run / "calibration.json", run / "calibration.json")
    trained = json.loads((run / "metrics.json").read_text())["operating_point"]
    _, record = evaluate_run(run, **FAST)
    op = record["operating_point"]
    assert op["from"] == "training" and op["threshold"] == trained["threshold"]
    assert (op["target_far"], op["promised_far"], op["promised_frr"]) == (
        trained["target_far"], trained["promised_far"], trained["promised_frr"]
    )  # fmt: skip


def test_operating_point_from_calibration(run: Path) -> None:
    cal = calibrate_run(run, target_far=0.1, num_pairs=400)
    _, record = evaluate_run(run, **FAST)
    op = record["operating_point"]
    promise = cal.test_rates or cal.calibration_rates
    assert op["from"] == "calibration" and op["threshold"] == cal.threshold
    assert (op["target_far"], op["promised_far"], op["promised_frr"]) == (
        0.1, promise.far, promise.frr
    )  # fmt: skip
    assert op["far"] == record["verification"]["far"]["value"]
