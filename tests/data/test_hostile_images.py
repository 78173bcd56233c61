"""Images that used to be read wrong or not at all: 16-bit PNGs, decompression bombs."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.data import load_data
from siamkit.readers import load_image_array, load_images


def _digit_arrays() -> np.ndarray:
    data = load_data("digits")
    return (data.x[:5, 0].numpy() * 255).round().astype(np.uint8)  # (5, H, W)


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` grey pixels, with one tiny IDAT: a few
    dozen bytes on disk, and a decompression bomb to anything that trusts the header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_png_reads_as_its_8_bit_twin(tmp_path: Path, channels: int) -> None:
    for i, digit in enumerate(_digit_arrays()):
        eight, sixteen = tmp_path / f"{i}_8.png", tmp_path / f"{i}_16.png"
        Image.fromarray(digit).save(eight)
        Image.fromarray(digit.astype(np.uint16) * 257).save(sixteen)  # 255 -> 65535
        assert Image.open(sixteen).mode.startswith("I")
        a = load_image_array(eight, channels)
        b = load_image_array(sixteen, channels)
        assert a.shape == b.shape == (channels, 8, 8)
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6
        # resized to a model's size too
        a = load_image_array(eight, channels, (28, 28))
        b = load_image_array(sixteen, channels, (28, 28))
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6


def test_32_bit_integer_image_is_read_on_the_16_bit_scale(tmp_path: Path) -> None:
    path = tmp_path / "i.tif"
    values = np.array([[0, 32768, 65535]], dtype=np.int32)
    Image.fromarray(values, mode="I").save(path)
    got = load_image_array(path)[0, 0]
    assert np.allclose(got, [0.0, 128 / 255, 1.0], atol=1 / 255)


@pytest.mark.parametrize("side", [20000, 9000])  # over Pillow's own limit; over ours only
def test_decompression_bomb_is_refused_naming_file_pixels_and_limit(
    tmp_path: Path, side: int
) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", side, side)
    assert bomb.stat().st_size < 200
    with pytest.raises(ValueError) as e:
        load_images([bomb], 1, (28, 28))
    message = str(e.value)
    assert str(bomb) in message and str(side * side) in message and "64000000" in message
    assert "max_pixels" in message


def test_pixel_limit_is_settable(tmp_path: Path) -> None:
    path = tmp_path / "d.png"
    Image.fromarray(_digit_arrays()[0]).save(path)  # 8x8 = 64 pixels
    assert load_image_array(path, max_pixels=64).shape == (1, 8, 8)
    with pytest.raises(ValueError, match="has 64 pixels, over the limit of 63"):
        load_image_array(path, max_pixels=63)
