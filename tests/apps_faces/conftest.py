"""Real face photos made from scikit-image's bundled images, and a face-encoder folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

NEEDS_FACES = "needs the faces extra: pip install 'siamkit[faces]'"


@pytest.fixture(scope="session")
def face_photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``astronaut`` (512x512 portrait), ``astronaut_aug`` (the same photo cropped, flipped,
    brightened, rotated 5°), ``other`` (another person: an LFW crop upscaled to 250x250) and
    ``no_face`` (a cup of coffee)."""
    skimage_data = pytest.importorskip("skimage.data", reason=NEEDS_FACES)
    root = tmp_path_factory.mktemp("faces")
    astronaut = Image.fromarray(skimage_data.astronaut())
    aug = astronaut.crop((40, 0, 452, 412)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    aug = ImageEnhance.Brightness(aug.rotate(5, resample=Image.Resampling.BILINEAR)).enhance(1.2)
    crop = (skimage_data.lfw_subset()[0] * 255).round().astype(np.uint8)  # (25, 25)
    other = Image.fromarray(crop).resize((250, 250), Image.Resampling.BICUBIC)
    photos = {
        "astronaut": (astronaut, "astronaut.jpg"),
        "astronaut_aug": (aug, "astronaut_aug.jpg"),
        "other": (other, "other.png"),
        "no_face": (Image.fromarray(skimage_data.coffee()), "coffee.png"),
    }
    paths = {}
    for key, (img, name) in photos.items():
        img.save(root / name)
        paths[key] = root / name
    return paths


@pytest.fixture(scope="session")
def face_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``siamkit faces init`` folder with dlib's defaults."""
    from siamkit.apps.faces.run import write_face_run

    run = tmp_path_factory.mktemp("runs") / "faces"
    write_face_run(run)
    return run
