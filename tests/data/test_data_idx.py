"""read_idx against arrays written by hand with struct (big-endian header, raw data)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from siamkit.data.idx import read_idx


def idx_bytes(arr: np.ndarray, code: int = 0x08, dtype: str = ">u1") -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim)
    header += b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(dtype).tobytes()


@pytest.fixture
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)


def test_round_trip_plain(tmp_path, images):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_bytes(images))
    out = read_idx(p)
    assert out.shape == (5, 4, 3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


def test_round_trip_gzip(tmp_path, images):
    p = tmp_path / "x-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(idx_bytes(images)))
    out = read_idx(str(p))
    np.testing.assert_array_equal(out, images)


def test_header_is_big_endian_and_element_order_row_major(tmp_path):
    # Hand-built: 2x3 uint8 array 0..5, dims 2 and 3 as big-endian uint32.
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    p = tmp_path / "hand-idx2-ubyte"
    p.write_bytes(raw)
    np.testing.assert_array_equal(read_idx(p), [[0, 1, 2], [3, 4, 5]])


def test_labels_one_dimensional(tmp_path):
    labels = np.array([3, 0, 9, 9, 1], dtype=np.uint8)
    p = tmp_path / "y-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(p), labels)


def test_big_endian_int32_values_decoded(tmp_path):
    arr = np.array([[1, -2], [70000, -70000]], dtype=np.int32)
    p = tmp_path / "ints-idx2"
    p.write_bytes(idx_bytes(arr, code=0x0C, dtype=">i4"))
    out = read_idx(p)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize(
    "magic",
    [b"\x01\x00\x08\x03", b"\x00\x01\x08\x03", b"\x00\x00\x07\x03", b"PK\x03\x04"],
)
def test_bad_magic_raises_naming_file(tmp_path, images, magic):
    p = tmp_path / "bad-magic-idx3-ubyte"
    p.write_bytes(magic + idx_bytes(images)[4:])
    with pytest.raises(ValueError, match="bad magic") as exc:
        read_idx(p)
    assert str(p) in str(exc.value)


def test_too_short_for_magic_raises(tmp_path):
    p = tmp_path / "tiny"
    p.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(p)


def test_truncated_data_raises_naming_file(tmp_path, images):
    p = tmp_path / "trunc-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:-7])
    with pytest.raises(ValueError, match="truncated") as exc:
        read_idx(p)
    assert str(p) in str(exc.value)
    # 4 + 3*4 header bytes + 60 data bytes expected, 7 missing.
    assert "expected 76" in str(exc.value)


def test_trailing_bytes_raise(tmp_path, images):
    p = tmp_path / "long-idx3-ubyte"
    p.write_bytes(idx_bytes(images) + b"\x00")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(p)


def test_truncated_header_raises(tmp_path, images):
    p = tmp_path / "hdr-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:9])
    with pytest.raises(ValueError):
        read_idx(p)


def test_truncated_gzip_stream_raises_naming_file(tmp_path, images):
    p = tmp_path / "trunc-idx3-ubyte.gz"
    blob = gzip.compress(idx_bytes(images))
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError) as exc:
        read_idx(p)
    assert str(p) in str(exc.value)


def test_missing_file_raises_value_error(tmp_path):
    p = tmp_path / "nope-idx3-ubyte"
    with pytest.raises(ValueError, match="cannot read IDX file") as exc:
        read_idx(p)
    assert str(p) in str(exc.value)
