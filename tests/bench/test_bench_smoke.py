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
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    names = {r["contender"] for r in rows}
    sys.path.insert(0, str(ROOT / "bench"))
    from fmnist_openset import CONTENDERS

    assert names == set(CONTENDERS)
    assert {"floor", "bare_loop", "pml_contrastive", "siamkit_contrastive"} <= names
    for r in rows:
        assert r["peak_rss_mb"] > 0
        if r["contender"] != "bare_loop":
            assert 0.0 <= r["map_at_r"] <= 1.0 and 0.0 <= r["p_at_1"] <= 1.0
            assert 0.0 <= r["eer"] <= 1.0 and 0.0 <= r["5w1s"] <= 1.0
        if r["contender"] != "floor":
            assert r["train_img_s"] > 0
    assert "siamkit trainer / bare loop" in done.stdout
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
