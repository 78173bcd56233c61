"""`--log tensorboard` writes each epoch's numbers, the same as metrics.json holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siamkit.training import train

from conftest import tiny_config

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator", reason="the tensorboard extra"
)


def _scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    acc = event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}


def test_the_curves_are_the_runs_history(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(tiny_config(out, log="tensorboard", refit=False), progress=False)
    history = json.loads((out / "metrics.json").read_text())["history"]
    got = _scalars(out / "tensorboard")
    assert [s for s, _ in got["train/loss"]] == [r["epoch"] for r in history]
    for tag, key in (("train/loss", "train_loss"), ("train/lr", "lr")):
        assert [v for _, v in got[tag]] == pytest.approx([r[key] for r in history], rel=1e-6)
    assert [v for _, v in got["val/roc_auc"]] == pytest.approx(
        [r["val"]["roc_auc"] for r in history], rel=1e-6
    )


def test_a_run_may_resume_with_logging_switched_on(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(tiny_config(out, refit=False, epochs=1), progress=False)
    train(tiny_config(out, refit=False, epochs=2, log="tensorboard"), resume=True, progress=False)
    assert [s for s, _ in _scalars(out / "tensorboard")["train/loss"]] == [2]
