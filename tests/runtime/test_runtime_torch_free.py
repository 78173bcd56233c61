"""siamkit.runtime works in a process where torch cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from siamkit.evaluation import embed_all
from siamkit.export import export_run
from siamkit.training import load_run

BLOCK_TORCH = textwrap.dedent(
    """
    import sys

    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError(f"torch is not installed here ({name})")
            return None

    sys.meta_path.insert(0, NoTorch())
    """
)


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip


def test_the_blocker_really_blocks_torch(tmp_path: Path) -> None:
    done = _run("import siamkit.training", tmp_path)
    assert done.returncode != 0 and "torch is not installed here" in done.stderr


def test_runtime_embeds_without_torch(trained_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    export_run(trained_run, path)
    x = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code = f"""
        import numpy as np
        import siamkit
        from siamkit.runtime import OnnxEncoder
        from siamkit.run import Embedder

        enc = OnnxEncoder({str(path)!r}, num_threads=1)
        assert isinstance(enc, Embedder)
        emb = enc.embed(np.load({str(tmp_path / "x.npy")!r}))
        np.save({str(tmp_path / "out.npy")!r}, emb)
        print(enc.same(emb[:2], emb[2:4]).tolist())
        assert "torch" not in sys.modules, "torch was imported"
        assert "TrainConfig" in siamkit.__all__ and "TrainConfig" in dir(siamkit)
    """
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    import torch

    expected = embed_all(load_run(trained_run).model, torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)


def test_lazy_package_names_resolve_to_their_modules() -> None:
    import siamkit
    from siamkit import distances, losses, models, training

    modules = {"siamkit.distances": distances, "siamkit.losses": losses,
               "siamkit.models": models, "siamkit.training": training}  # fmt: skip
    for name in siamkit.__all__:
        assert getattr(siamkit, name) is getattr(modules[siamkit._LAZY[name]], name)
    assert set(siamkit.__all__) == set(siamkit._LAZY)
    with pytest.raises(AttributeError, match="module 'siamkit' has no attribute 'nope'"):
        _ = siamkit.nope  # type: ignore[attr-defined]
