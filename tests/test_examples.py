"""Every script in examples/ runs to the end on small data (each in its own interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == {
        "verify_two_images.py",
        "gallery_identify.py",
        "finetune_text_pairs.py",
        "export_and_run_without_torch.py",
    }


def test_verify_two_images(tmp_path: Path) -> None:
    done = _run("verify_two_images.py", "--run", "r", "--epochs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "seven_0.png vs seven_1.png: distance" in done.stdout
    assert done.stdout.strip().endswith(("same", "different"))


def test_gallery_identify(tmp_path: Path) -> None:
    pytest.importorskip("faiss")
    done = _run("gallery_identify.py", "--run", "r", "--epochs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    right, total = done.stdout.split("identified ")[-1].split(" correctly")[0].split(" of ")
    assert int(total) == 20 and 0 <= int(right) <= 20


def test_finetune_text_pairs(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    done = _run("finetune_text_pairs.py", "--run", "runs/t", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cosine distance: paraphrase" in done.stdout


def test_export_and_run_without_torch(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    done = _run("export_and_run_without_torch.py", "--run", "r", "--epochs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "torch imported: False" in done.stdout
