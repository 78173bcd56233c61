"""bench/gallery_scale.py end to end on a few thousand items: the table, the JSON, sane numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_writes_the_table_and_results(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Someone else's section\n\nkept\n")
    results = tmp_path / "r.jsonl"
    cmd = [
        sys.executable, str(ROOT / "bench" / "gallery_scale.py"), "--items", "3000",
        "--queries", "60", "--exact-queries", "20", "--ef-search", "8", "64",
        "--results", str(results), "--docs", str(docs), "--work-dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (r,) = [json.loads(line) for line in results.read_text().splitlines()]
    assert r["items"] == 3000 and r["clusters"] == 60 and r["enroll_items_per_s"] > 0
    assert [row["index"].split()[0] for row in r["rows"]] == ["flat", "HNSW", "HNSW"]
    assert r["rows"][0]["recall"] == 1.0
    for row in r["rows"]:
        assert 0.0 <= row["recall"] <= 1.0
        assert all(v > 0 for v in (*row["gallery"], *row["raw"]))
    assert r["rows"][2]["recall"] >= r["rows"][1]["recall"] - 0.05  # wider search, no worse
    text = docs.read_text()
    assert text.index("Someone else's section") < text.index("## Gallery at scale")
    assert "<!-- gallery-scale:start -->" in text and "| flat (exact) | 1.000 |" in text
    # a second run replaces the table instead of adding another section
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert docs.read_text().count("## Gallery at scale") == 1
