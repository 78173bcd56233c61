"""`siamkit export`: writes the file, prints the checks, exits 2 on bad input, 1 on a failed check."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.runtime import OnnxEncoder

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines


def test_export_int8_json(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    r = runner.invoke(app, ["export", str(trained_run), "--format", "onnx", "--out", str(out),
                            "--quantize", "int8", "--max-metric-drop", "0.5", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    enc = OnnxEncoder(out)
    assert report["fingerprint"] == enc.fingerprint and report["quantization"] == "int8-static"
    assert report["parity"]["min_cosine"] >= 0.9999
    change = report["metric_change"]
    assert change["map_at_r_drop"] == change["reference_map_at_r"] - change["candidate_map_at_r"]


def test_export_fp32_table(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    r = runner.invoke(app, ["export", str(trained_run), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "parity with PyTorch on 256 held-out items" in r.stdout
    assert out.is_file() and OnnxEncoder(out).metadata.quantization == "none"


def test_bad_input_exits_2_and_writes_nothing(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    r = runner.invoke(app, ["export", str(trained_run), "--out", str(out), "--format", "tflite"])
    assert r.exit_code == 2 and "unknown format 'tflite'; choose one of: onnx" in _flat(r.output)
    r = runner.invoke(app, ["export", str(tmp_path), "--out", str(out)])
    assert r.exit_code == 2 and "is not a finished siamkit run" in _flat(r.output)
    assert not out.exists()
