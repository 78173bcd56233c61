"""A smoke run of the ONNX latency benchmark, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_produces_every_variant(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/onnx_latency.py"), "--smoke", "--threads", "1",
         "--results", str(results)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["variant"] for r in rows] == ["pytorch-eager", "onnx-fp32", "onnx-int8"]
    eager, fp32, int8 = rows
    assert int8["size_mb"] > 0 and abs(int8["map_at_r"] - eager["map_at_r"]) < 0.05
    assert eager["map_at_r_change_pct"] == 0.0
    assert abs(fp32["map_at_r"] - eager["map_at_r"]) < 1e-4  # fp32 export = PyTorch
    for r in rows:
        assert 0 < r["p50_ms"] <= r["p99_ms"] and r["batch64_items_s"] > 0 and r["size_mb"] > 0
        assert 0.0 <= r["map_at_r"] <= 1.0
    assert "| conv | onnx-int8 |" in done.stdout
    assert results.with_suffix(".md").read_text().strip() == done.stdout.strip()
