"""The CEDAR loader on a tiny folder in CEDAR's published layout, made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from siamkit.apps.signatures.cedar import image_size, read_cedar, scan_cedar
from siamkit.data.sources import SourceOptions, load_data

WRITERS = (1, 2, 10)  # 10 sorts after 2 (numbers, not strings)
SAMPLES = 3


def _grey(writer: int, sample: int, forged: bool) -> int:
    """A distinct constant grey per image, so each loaded image can be told apart."""
    return 10 * writer + 3 * sample + (100 if forged else 0)


@pytest.fixture
def cedar_dir(tmp_path: Path) -> Path:
    """full_org/original_W_S.png and full_forg/forgeries_W_S.png, odd sizes, plus clutter."""
    for w in WRITERS:
        for s in range(1, SAMPLES + 1):
            for forged, sub, stem in (
                (False, "full_org", "original"),
                (True, "full_forg", "forgeries"),
            ):
                path = tmp_path / sub / f"{stem}_{w}_{s}.png"
                path.parent.mkdir(exist_ok=True)
                size = (200 + 7 * s, 90 + w)  # (W, H): CEDAR's images vary in size
                Image.new("L", size, _grey(w, s, forged)).save(path)
    (tmp_path / "full_org" / "Thumbs.db").write_bytes(b"junk")
    (tmp_path / "full_org" / "notes.txt").write_text("not an image")
    return tmp_path


def test_scan_finds_every_file_in_writer_sample_order(cedar_dir: Path) -> None:
    genuine, forged = scan_cedar(cedar_dir)
    expected = [(w, s) for w in WRITERS for s in range(1, SAMPLES + 1)]
    assert [(f.writer, f.sample) for f in genuine] == expected
    assert [(f.writer, f.sample) for f in forged] == expected
    assert all(not f.forged for f in genuine) and all(f.forged for f in forged)
    assert genuine[0].path.name == "original_1_1.png"


def test_cedar_source_gives_genuine_signatures_one_class_per_writer(cedar_dir: Path) -> None:
    data = load_data(f"cedar:{cedar_dir}")
    assert data.class_names == ["1", "2", "10"]
    assert data.kind == "image"
    assert data.x.shape == (len(WRITERS) * SAMPLES, 1, 48, 128)
    assert data.y.tolist() == [c for c in range(len(WRITERS)) for _ in range(SAMPLES)]
    assert data.sources is not None
    for i, src in enumerate(data.sources):
        w, s = (int(v) for v in Path(src).stem.split("_")[1:])
        assert data.class_names[int(data.y[i])] == str(w)
        # a constant image stays constant under the resize: its grey, / 255
        assert torch.allclose(data.x[i], torch.full_like(data.x[i], _grey(w, s, False) / 255))


def test_image_size_option_keeps_the_wide_aspect(cedar_dir: Path) -> None:
    assert image_size(None) == (48, 128)
    assert image_size(SourceOptions(image_size=24)) == (24, 64)
    data = load_data(f"cedar:{cedar_dir}", SourceOptions(image_size=24))
    assert data.x.shape[2:] == (24, 64)


def test_a_pretrained_encoders_rgb_setting_still_reads_one_channel(cedar_dir: Path) -> None:
    # --encoder efficientnet_lite0 sets grayscale off (photo folders stay RGB); scanned ink
    # stays one channel, as Fashion-MNIST does, and the encoder copies it to three
    grey = load_data(f"cedar:{cedar_dir}")
    rgb_setting = load_data(f"cedar:{cedar_dir}", SourceOptions(grayscale=False))
    assert torch.equal(grey.x, rgb_setting.x) and rgb_setting.x.shape[1] == 1


def test_read_cedar_returns_forgeries_with_their_victims(cedar_dir: Path) -> None:
    data = read_cedar(cedar_dir, (12, 32))
    assert data.writers == list(WRITERS)
    assert data.forged.shape == (len(WRITERS) * SAMPLES, 1, 12, 32)
    assert data.forged_writer.tolist() == [w for w in WRITERS for _ in range(SAMPLES)]
    assert data.forger is None  # CEDAR does not say who forged what
    grey = np.array([_grey(f.writer, f.sample, True) for f in data.forged_files]) / 255
    assert np.allclose(data.forged[:, 0, 0, 0].numpy(), grey, atol=1e-6)


def test_cedar_hands_puts_each_forgery_in_its_forgers_class(cedar_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"forgers\.csv"):
        load_data(f"cedar-hands:{cedar_dir}")
    forger = {1: 2, 2: 10, 10: 1}
    rows = ["file,victim,forger"] + [
        f"full_forg/forgeries_{w}_{s}.png,{w},{forger[w]}"
        for w in WRITERS
        for s in range(1, SAMPLES + 1)
    ]
    (cedar_dir / "forgers.csv").write_text("\n".join(rows) + "\n")
    data = load_data(f"cedar-hands:{cedar_dir}")
    assert data.class_names == ["1", "2", "10"]
    n = len(WRITERS) * SAMPLES
    assert len(data) == 2 * n
    assert data.sources is not None
    for i in range(n, 2 * n):  # the forgeries follow the genuine signatures
        victim = int(Path(data.sources[i]).stem.split("_")[1])
        assert data.class_names[int(data.y[i])] == str(forger[victim])
    (cedar_dir / "forgers.csv").write_text("\n".join(rows[:-1]) + "\n")
    with pytest.raises(ValueError, match="no forger for 1 forgeries"):
        load_data(f"cedar-hands:{cedar_dir}")


def test_missing_layout_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_data(f"cedar:{tmp_path / 'nope'}")
    with pytest.raises(ValueError, match=r"full_org/original_W_S\.png"):
        load_data(f"cedar:{tmp_path}")
    with pytest.raises(ValueError, match="needs a folder"):
        load_data("cedar")
