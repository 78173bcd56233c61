"""A smoke run of the fmnist-openset benchmark harness, so it cannot rot."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _idx(path: Path, arr: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(
        struct.pack(">I", n) for n in arr.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def _tiny_fashion_mnist(folder: Path, per_class: dict[str, int]) -> None:
    rng = np.random.default_rng(0)
    for split, n in per_class.items():
        labels = np.repeat(np.arange(10), n)
        # class-dependent blobs so that something can be learned
        images = rng.integers(0, 60, (len(labels), 28, 28))
        for i, c in enumerate(labels):
            images[i, 2 * c : 2 * c + 8, 4:20] += 150
        _idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        _idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)


@pytest.mark.slow
def test_smoke_run_produces_every_row(tmp_path: Path) -> None:
    pytest.importorskip("pytorch_metric_learning")
    _tiny_fashion_mnist(tmp_path, {"train": 40, "t10k": 12})
    results = tmp_path / "r.jsonl"
    docs = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/fmnist_openset.py"), "--smoke", "--seeds", "0",
         "--data-dir", str(tmp_path), "--results", str(results), "--docs", str(docs)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {(r := json.loads(line))["contender"]: r for line in results.read_text().splitlines()}
    sys.path.insert(0, str(ROOT / "bench"))
    from fmnist_openset import CLI_ROWS, DEFAULT_CONTENDERS

    assert list(rows) == DEFAULT_CONTENDERS
    assert {"floor", "bare_loop", "pml_contrastive", "siamkit_contrastive"} <= set(rows)
    assert {"siamkit_default", "siamkit_all_last", "siamkit_no_refit"} <= set(rows)
    for name, r in rows.items():
        assert r["peak_rss_mb"] > 0
        if name != "bare_loop":
            for key in ("p_at_1", "map_at_r", "roc_auc", "eer", "5w1s", "5w5s"):
                assert 0.0 <= r[key] <= 1.0, (name, key, r[key])
        if name != "floor":
            assert r["train_img_s"] > 0
        if name in CLI_ROWS:  # the real CLI ran: both commands timed, no embed speed
            assert r["train_s"] > 0 and r["eval_s"] > 0
            assert "embed_img_s" not in r
    out = done.stdout
    assert "siamkit trainer / bare loop" in out
    assert "siamkit defaults (CLI) MAP@R / best PML MAP@R" in out
    assert "refit vs all-classes-last-epoch MAP@R" in out
    assert "refit cost" in out
    default = rows["siamkit_default"]  # the operating point training chose, and what it achieved
    assert 0.0 <= default["far_promised"] <= 1.0 and 0.0 <= default["far_achieved"] <= 1.0
    assert "FAR at the default operating point on the unseen classes, promised vs achieved" in out
    # the table lists the commands each CLI row ran, with placeholders
    common = "siamkit train --data fashion-mnist:DIR --train-classes 0-4 --eval-classes 5-9"
    tail = "--epochs 1 --seed S --out RUN --no-progress` then `siamkit evaluate RUN --json"
    assert f"`{common} {tail}" in out  # siamkit_default: no other flag
    assert f"`{common} --val-classes none --val-fraction 0 {tail}" in out
    assert f"`{common} --no-refit {tail}" in out
    assert f"`{common} --loss contrastive --margin 1 --val-classes none --val-fraction 0" in out
    assert not docs.exists()  # smoke runs never rewrite the docs table


@pytest.mark.slow
def test_losses_table_smoke(tmp_path: Path) -> None:
    _tiny_fashion_mnist(tmp_path, {"train": 40, "t10k": 12})
    results = tmp_path / "l.jsonl"
    rows = ["contrastive", "triplet(0.2) + semi_hard", "imbalanced (class 0 at 5%), random batches"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/losses_table.py"), "--smoke", "--data-dir", str(tmp_path),
         "--results", str(results), "--docs", str(tmp_path / "b.md"), "--rows", *rows],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    got = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["row"] for r in got] == rows
    assert got[1]["miner_stats_last_epoch"]["num_mined"] > 0  # the miner reported what it found
    assert got[2]["imbalanced"] is True
    assert not (tmp_path / "b.md").exists()
