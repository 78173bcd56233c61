"""A smoke run of the service load bench (tiny gallery, 1 s per scenario), so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_reports_every_scenario_without_5xx(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.jsonl"
    calibration = trained_run / "calibration.json"  # the refit's operating point
    before = calibration.read_bytes() if calibration.exists() else None
    cmd = [sys.executable, str(ROOT / "bench" / "service_load.py"), "--run", str(trained_run),
           "--items", "300", "--seconds", "1", "--clients", "4", "--out", str(out)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    got = {(row["endpoint"], row["scenario"]) for row in rows}
    scenarios = {"batched, wait 2 ms", "batched, no wait", "unbatched", "one client"}
    assert got == {(e, s) for e in ("/verify", "/identify") for s in scenarios}
    for row in rows:
        assert row["requests"] > 0 and row["5xx"] == 0 and row["connection_errors"] == 0
        assert set(row["status"]) == {"200"}, row
        assert row["p50_ms"] <= row["p99_ms"]
        assert row["rps"] == pytest.approx(row["requests"] / row["wall_s"])
        # max batch 1: one request per model call (2 images for verify)
        if row["scenario"] == "unbatched":
            assert row["mean_batch"] == (2.0 if row["endpoint"] == "/verify" else 1.0)
    assert "| /identify | one client | 1 |" in r.stdout
    after = calibration.read_bytes() if calibration.exists() else None
    assert after == before  # the bench calibrated a copy


def test_the_bench_refuses_a_non_loopback_host() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "service_load.py"), "--host", "0.0.0.0"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "loopback" in r.stderr
