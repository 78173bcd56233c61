"""The wheel users install: built from the tree, its metadata checked by twine, installed into a
fresh virtual environment outside the repository with the base dependencies only (no torch),
where `siamkit --version`, `siamkit verify model.onnx a b` and the runtime's embedding work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    done = _run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        cwd=out,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (path,) = out.glob("siamkit-*.whl")
    return path


def test_twine_accepts_the_wheel_metadata(wheel: Path) -> None:
    pytest.importorskip("twine")
    done = _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel)], cwd=wheel.parent)
    assert done.returncode == 0 and "PASSED" in done.stdout, done.stdout + done.stderr


def test_the_base_install_runs_an_exported_model_without_torch(
    wheel: Path, trained_run: Path, tmp_path: Path
) -> None:
    from siamkit.export import export_run

    model = tmp_path / "model.onnx"
    export_run(trained_run, model)
    images = []
    for i, seed in enumerate((0, 0, 1)):  # a, the same a, and another image
        pixels = np.random.default_rng(seed).integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{i}.png")
        images.append(tmp_path / f"{i}.png")
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    py, cli = env_dir / "bin" / "python", env_dir / "bin" / "siamkit"
    done = _run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    done = _run([str(py), "-c", "import torch"], cwd=tmp_path)
    assert done.returncode != 0  # the base install brings no torch
    done = _run([str(cli), "--version"], cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("siamkit "), done.stderr
    done = _run(
        [str(cli), "verify", str(model), str(images[0]), str(images[1]), "--json"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    same = json.loads(done.stdout)
    assert same["distance"] == pytest.approx(0.0, abs=1e-5) and same["same"] is True
    code = (
        "import sys; from siamkit.runtime import OnnxEncoder; "
        f"e = OnnxEncoder({str(model)!r}).embed_files({[str(p) for p in images]!r}); "
        "print(e.shape, 'torch' in sys.modules)"
    )
    done = _run([str(py), "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(3,", "16)", "False"]
