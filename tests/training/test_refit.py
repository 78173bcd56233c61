"""The refit: choose on held-out training classes, then train the final model on all of them."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from siamkit.data import load_data, parse_classes
from siamkit.evaluation.calibrated_run import pair_distances
from siamkit.evaluation.calibration import error_rates, fit_threshold
from siamkit.models.embed import embed_all
from siamkit.run import Calibration
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.operating_point import OPERATING_PAIRS, match_scale, operating_point_caution
from siamkit.training.refit import refits
from siamkit.training.setup import default_val_classes, prepare_data

from conftest import tiny_config


@pytest.fixture(scope="module")
def refit_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("refit") / "run"
    console = Console(file=io.StringIO(), width=400)
    train(tiny_config(out, epochs=3), progress=False, console=console)
    (out.parent / "console.txt").write_text(console.file.getvalue())  # type: ignore[attr-defined]
    return out


def test_default_holds_out_two_classes_with_refit_else_one() -> None:
    assert default_val_classes([0, 1, 2, 3, 4], refit=True) == [3, 4]
    assert default_val_classes([0, 1, 2, 3, 4], refit=False) == [4]
    assert default_val_classes([0, 1, 2], refit=True) == [2]  # too few for two
    assert default_val_classes([0, 1], refit=True) == []


@pytest.mark.parametrize(("n", "held"), [(4, 2), (10, 2), (12, 2), (13, 3), (100, 20), (808, 162)])
def test_many_classes_hold_out_the_last_fifth(n: int, held: int) -> None:
    # a fifth of the classes (rounded, at least two), so the operating point rests on many
    # class pairs when there are many classes; without the refit still the last one
    classes = list(range(10, 10 + n))
    assert default_val_classes(classes, refit=True) == classes[n - held :]
    assert default_val_classes(classes, refit=False) == classes[-1:]


def test_refits_only_with_validation_and_labels(tmp_path: Path) -> None:
    assert refits(tiny_config(tmp_path))
    assert not refits(tiny_config(tmp_path, refit=False))
    assert not refits(tiny_config(tmp_path, val_classes="none", val_fraction=0.0))


def test_final_model_trains_on_every_training_item(refit_run: Path) -> None:
    metrics = json.loads((refit_run / "metrics.json").read_text())
    best_epoch = metrics["selection"]["best_epoch"]
    sel = load_run(refit_run / "selection")
    final = load_run(refit_run)
    # the selection held out the last two training classes whole (and 10% of the others)
    sel_data = prepare_data(sel.config)
    assert sel_data.held_out == (3, 4)
    assert set(torch.unique(sel_data.train.y).tolist()) == {0, 1, 2}
    # the final run: every training item of classes 0-4, no validation, the chosen epochs
    assert final.config.val_classes == "none" and final.config.val_fraction == 0.0
    assert final.config.epochs == best_epoch == len(metrics["history"])
    every = load_data("digits").of_classes([0, 1, 2, 3, 4])
    final_data = prepare_data(final.config)
    assert final_data.val is None
    assert len(final_data.train) == len(every)
    assert metrics["refit"]["epochs"] == best_epoch and metrics["refit"]["seconds"] > 0
    # what the user asked is kept beside the final settings
    saved = json.loads((refit_run / "config.json").read_text())
    assert saved["requested"]["val_classes"] is None and saved["requested"]["refit"] is True
    # the weights differ from the selection model's: it was trained again
    a = dict(sel.model.state_dict())
    b = dict(final.model.state_dict())
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_operating_point_is_fitted_on_held_out_class_pairs(refit_run: Path) -> None:
    metrics = json.loads((refit_run / "metrics.json").read_text())
    op = metrics["operating_point"]
    assert op["fitted_on"] == "held-out classes" and op["classes"] == ["3", "4"]
    assert op["target_far"] == 0.05 and op["pairs"] == OPERATING_PAIRS
    assert op["unseen_class_pairs"] == 1  # classes 3 and 4: one pair
    # the promise is the selection model's own FAR on pairs of the held-out classes, at the
    # threshold a plain fit for the target gives there (carrying the scale keeps the order)
    sel = load_run(refit_run / "selection")
    held = prepare_data(sel.config)
    assert held.val is not None
    keep = torch.isin(held.val.y, torch.tensor([3, 4]))
    val = held.val.subset(keep.nonzero().flatten())
    emb = embed_all(sel.model, val.x)
    same, d = pair_distances(emb, val.y, OPERATING_PAIRS, sel.config.seed, sel.model.distance)
    thr = fit_threshold(same, d, target_far=0.05)
    rates = error_rates(same, d, thr)
    assert op["promised_far"] == pytest.approx(rates.far, abs=2e-3)
    assert op["promised_frr"] == pytest.approx(rates.frr, abs=2e-2)
    assert op["promised_far"] <= 0.05
    # the run's decision rule everywhere: calibration.json and metrics.json agree
    cal = Calibration.load(refit_run)
    assert cal is not None and cal.threshold == op["threshold"] == metrics["threshold"]
    assert cal.target_far == 0.05


def test_match_scale_hand_worked() -> None:
    before = np.array([0.0, 1.0, 2.0])
    after = np.array([0.0, 2.0, 4.0])
    got = match_scale(np.array([0.5, 1.5, -1.0, 3.0]), before, after)
    # inside the range: the same quantile of `after`; outside: shifted by the end's offset
    np.testing.assert_allclose(got, [1.0, 3.0, -1.0, 5.0])
    # increasing: order (and so any rate at a carried threshold) is kept
    x = np.sort(np.random.default_rng(0).normal(size=200))
    y = match_scale(
        x, np.random.default_rng(1).normal(size=500), np.random.default_rng(2).normal(2, 3, 500)
    )
    assert np.all(np.diff(y) >= 0)


def test_no_refit_keeps_the_held_in_model(tmp_path: Path) -> None:
    result = train(tiny_config(tmp_path / "r", refit=False), progress=False)
    assert not (tmp_path / "r" / "selection").exists()
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert "operating_point" not in metrics and "refit" not in metrics
    assert result.threshold == metrics["threshold"]
    data = prepare_data(load_run(tmp_path / "r").config)
    assert data.held_out == (4,)  # today's default: the last training class


def test_resume_after_the_selection_goes_on_to_the_refit(refit_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(refit_run, run)
    for name in ("best", "last", "metrics.json", "calibration.json"):  # killed before the refit
        target = run / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    cfg = tiny_config(run, epochs=3)
    train(cfg, resume=True, progress=False)
    first = load_run(refit_run).model.state_dict()
    again = load_run(run).model.state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)  # deterministic per seed
    assert json.loads((run / "metrics.json").read_text())["operating_point"]


def test_existing_refit_run_is_not_overwritten_silently(refit_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(refit_run / "selection", run / "selection")  # a run stopped in selection
    with pytest.raises(ValueError, match="already holds a run"):
        train(tiny_config(run), progress=False)
    train(tiny_config(run, epochs=1), overwrite=True, progress=False)
    assert (run / "best").is_dir()


def test_all_classes_needs_no_evaluation_classes(tmp_path: Path) -> None:
    cfg = TrainConfig(data="digits", train_classes="all", out=str(tmp_path))
    assert cfg.eval_classes == "none"
    assert parse_classes("none", [str(i) for i in range(10)]) == []
    run = tmp_path / "prod"
    train(
        tiny_config(run, train_classes="all", eval_classes="none", epochs=1),
        progress=False,
    )
    final = load_run(run)
    assert prepare_data(final.config).train.y.unique().tolist() == list(range(10))
    # named classes overlapping the evaluation ones: the error says how to train on all
    with pytest.raises(ValueError, match="--eval-classes none"):
        prepare_data(TrainConfig(data="digits", train_classes="0-9"))


def test_overwrite_never_deletes_an_unrelated_parent(tmp_path: Path) -> None:
    # a run that happens to be called "selection", and --out its parent with --overwrite
    other = tmp_path / "runs" / "selection"
    train(tiny_config(other, epochs=1, refit=False), progress=False)
    (tmp_path / "runs" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="selection already holds a run"):
        train(tiny_config(tmp_path / "runs", epochs=1), overwrite=True, progress=False)
    assert (tmp_path / "runs" / "keep.txt").read_text() == "mine"
    assert (other / "best").is_dir()  # the other run is untouched


def test_a_run_from_before_the_refit_resumes_as_it_was(tmp_path: Path) -> None:
    run = tmp_path / "old"
    train(tiny_config(run, epochs=1, refit=False), progress=False)
    saved = json.loads((run / "config.json").read_text())
    del saved["train"]["refit"], saved["train"]["target_far"]  # as an older siamkit wrote it
    (run / "config.json").write_text(json.dumps(saved))
    train(tiny_config(run, epochs=2), resume=True, progress=False)  # refit=True by default
    assert not (run / "selection").exists()
    assert len(json.loads((run / "metrics.json").read_text())["history"]) == 2


def test_a_promise_on_few_class_pairs_comes_with_a_caution(refit_run: Path) -> None:
    # digits 0-4 hold out 3 and 4: the promise rests on one class pair, and train says so
    shown = (refit_run.parent / "console.txt").read_text()
    assert "operating point: threshold" in shown
    assert "rests on 1 pair of classes the selection model never saw" in shown
    assert f"siamkit calibrate {refit_run} --data" in shown and "--target-far 0.05" in shown
    card = (refit_run / "README.md").read_text()  # the model card
    assert "rests on 1 pair of classes the selection model never saw" in card
    # ten pairs (five held-out classes) and more: no caution; none held out whole: optimistic
    assert operating_point_caution({"unseen_class_pairs": 10, "target_far": 0.05}) is None
    assert operating_point_caution({"unseen_class_pairs": 45, "target_far": 0.05}) is None
    assert "9 pairs" in str(operating_point_caution({"unseen_class_pairs": 9, "target_far": 0.1}))
    items = operating_point_caution({"unseen_class_pairs": 0, "target_far": 0.05})
    assert items is not None and "optimistic" in items


def test_a_promise_on_held_out_items_is_called_optimistic(tmp_path: Path) -> None:
    # three training classes: the selection holds out one whole, so no pair of unseen classes
    # exists and the operating point is fitted on pairs of all validation items
    out = tmp_path / "three"
    train(tiny_config(out, train_classes="0-2", epochs=1), progress=False)
    op = json.loads((out / "metrics.json").read_text())["operating_point"]
    assert op["fitted_on"] == "held-out items" and op["unseen_class_pairs"] == 0
    card = (out / "README.md").read_text()
    assert "rests on held-out items of classes the model trained on (optimistic)" in card
