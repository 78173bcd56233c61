"""A real 2-process gloo training job on digits: `siamkit train --nproc 2` is killed (SIGKILL to
every worker) after its first checkpoint, resumed with torchrun, finished, and compared with
one process at the same seed and global batch.

Tolerance (docs/distributed.md): on CPU each process's BatchNorm normalises its own share of
the batch (PyTorch's SyncBatchNorm is GPU-only), so the runs are close, not equal: per-epoch
training loss within 3% and validation ROC-AUC within 0.02 (two seeds of one process differ by
about 0.05-0.08 here). The loss and gradients themselves are exact: test_ddp_gather.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from siamkit.evaluation.evaluate import evaluate_model
from siamkit.training import load_run, prepare_data, train

from .helpers import job_env, torchrun
from conftest import tiny_config

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds workers in /proc")

# rotation prediction draws its turns per process (each its own share), so the two sides would
# differ by more than BatchNorm's statistics; it is off on both sides of the comparison (its
# gradients under DDP are checked exactly in test_ddp_gather.py)
# one run each (the refit's two phases are tested on their own below)
SETTINGS = {"widths": [8, 16], "embedding_dim": 16, "val_pairs": 500, "batch_size": 64,
            "rotation": 0.0, "refit": False}  # fmt: skip


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (torchrun's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not path.is_file():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before writing {path}: {proc.stdout.read()}")  # type: ignore[union-attr]
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"no {path} after {timeout} s")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """Run dir of a 2-process run killed after its first checkpoint and then resumed for one
    more epoch; the epoch it was killed after; the resumed run's output."""
    tmp = tmp_path_factory.mktemp("ddp")
    cfg, run = tmp / "tiny.yaml", tmp / "run"
    cfg.write_text(yaml.safe_dump(SETTINGS))
    common = ["train", "--config", str(cfg), "--out", str(run), "--no-progress", "--seed", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "siamkit", *common, "--epochs", "50", "--nproc", "2"],
        env=job_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(run / "last" / "trainer_state.pt", proc, timeout=180)
    for worker in _children(proc.pid):  # a crash of every worker: no clean shutdown
        os.kill(worker, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode != 0  # torchrun reports the failed workers
    killed_after = int(torch.load(run / "last" / "trainer_state.pt")["epoch"])
    assert killed_after < 50
    args = ["-m", "siamkit", *common, "--epochs", str(killed_after + 1), "--resume"]
    return run, killed_after, torchrun(args, timeout=180)


def test_resume_after_kill_finishes_the_run(resumed: tuple[Path, int, str]) -> None:
    run, killed_after, output = resumed
    assert f"resuming {run} after epoch {killed_after}" in output
    metrics = json.loads((run / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == list(range(1, killed_after + 2))
    assert all(h["processes"] == 2 for h in metrics["history"])
    # rank 0 alone writes: no epoch logged twice (a kill may land between an epoch's
    # checkpoint and its log line, so an early line may be missing), one "done", no stray files
    logged = [line.split(":")[0] for line in (run / "train.log").read_text().splitlines()]
    assert len(logged) == len(set(logged)) and f"epoch {killed_after + 1}" in logged
    assert output.count("done: best epoch") == 1
    assert sorted(p.name for p in run.iterdir()) == [
        "README.md",  # the model card, written once the run finishes
        "best",
        "config.json",
        "last",
        "metrics.json",
        "train.log",
    ]


def test_two_processes_match_one_within_tolerance(
    resumed: tuple[Path, int, str], tmp_path: Path
) -> None:
    run, killed_after, _ = resumed
    torch.set_num_threads(1)
    one = train(
        tiny_config(tmp_path / "one", epochs=killed_after + 1, **SETTINGS), progress=False
    ).history
    two = json.loads((run / "metrics.json").read_text())["history"]
    for a, b in zip(one, two, strict=True):
        assert abs(a["train_loss"] - b["train_loss"]) <= 0.03 * a["train_loss"], (a, b)
        assert abs(a["val"]["roc_auc"] - b["val"]["roc_auc"]) <= 0.02, (a, b)


def test_parallel_validation_scores_the_saved_model(resumed: tuple[Path, int, str]) -> None:
    # rank 0 scored embeddings made by 2 processes; one process scoring the saved model (the
    # reference) gets the same figures
    run, _, _ = resumed
    loaded = load_run(run, "last")
    val = prepare_data(loaded.config).val
    assert val is not None
    ref = evaluate_model(loaded.model, val, num_pairs=loaded.config.val_pairs, seed=0)
    got = json.loads((run / "last" / "metrics.json").read_text())["val"]
    assert got["num_items"] == ref.num_items
    assert abs(got["roc_auc"] - ref.roc_auc) <= 1e-4
    assert abs(got["precision_at_1"] - ref.precision_at_1) <= 1e-9


def test_default_image_recipe_keeps_rotation_under_torchrun(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({k: v for k, v in SETTINGS.items() if k != "rotation"}))
    out = tmp_path / "run"  # refit off (SETTINGS): one run
    torchrun(["-m", "siamkit", "train", "--config", str(cfg), "--out", str(out), "--no-progress",
              "--epochs", "1", "--data", "digits", "--train-classes", "0-4",
              "--eval-classes", "5-9"], timeout=180)  # fmt: skip
    run = load_run(out, "last")
    assert run.config.rotation == 1.0 and run.config.loss == "multi_similarity"
    assert "rotation.head.0.weight" in load_file(str(out / "last" / "loss.safetensors"))
    assert torch.isfinite(torch.tensor(run.metrics["train_loss"]))  # one epoch's record


def test_moving_average_resumes_alike_on_every_process(tmp_path: Path) -> None:
    # 2 processes with --ema: one epoch then a resumed second against two epochs straight.
    # Only rank 0 reads the checkpoint, yet every process validates with the average, so the
    # second epoch's validation figures match only if rank 1 got rank 0's average too.
    cfg = tmp_path / "ema.yaml"
    cfg.write_text(yaml.safe_dump({**SETTINGS, "ema": 0.9}))
    common = ["-m", "siamkit", "train", "--config", str(cfg), "--no-progress", "--data",
              "digits", "--train-classes", "0-4", "--eval-classes", "5-9"]  # fmt: skip
    torchrun([*common, "--out", str(tmp_path / "straight"), "--epochs", "2"], timeout=180)
    torchrun([*common, "--out", str(tmp_path / "part"), "--epochs", "1"], timeout=180)
    torchrun([*common, "--out", str(tmp_path / "part"), "--epochs", "2", "--resume"], timeout=180)
    straight, part = (
        json.loads((tmp_path / d / "metrics.json").read_text())["history"]
        for d in ("straight", "part")
    )
    assert [h["epoch"] for h in part] == [1, 2]
    for key in ("roc_auc", "eer"):
        assert part[1]["val"][key] == pytest.approx(straight[1]["val"][key], abs=1e-6), key
    a = load_file(str(tmp_path / "straight" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "part" / "last" / "model.safetensors"))
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k


def test_refit_under_torchrun_agrees_on_the_chosen_epochs(tmp_path: Path) -> None:
    # every process must train the final model for the selection's best epoch count (rank 0
    # alone validates): the runs would hang on mismatched collectives otherwise
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({**SETTINGS, "refit": True}))
    out = tmp_path / "run"
    torchrun(["-m", "siamkit", "train", "--config", str(cfg), "--out", str(out), "--no-progress",
              "--epochs", "3", "--data", "digits", "--train-classes", "0-4",
              "--eval-classes", "5-9"], timeout=300)  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    best = json.loads((out / "selection" / "metrics.json").read_text())["best_epoch"]
    assert metrics["refit"]["epochs"] == best == len(metrics["history"])
    assert metrics["history"][-1]["processes"] == 2
    assert metrics["operating_point"]["fitted_on"] == "held-out classes"
