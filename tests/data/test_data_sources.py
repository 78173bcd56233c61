"""load_data sources: digits, fashion-mnist (tiny IDX files), image-folder (PNGs) and csv."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from siamkit.data import SourceOptions, load_data
from siamkit.data.sources import FASHION_MNIST_CLASSES

# ---------------------------------------------------------------- digits


def test_digits_matches_sklearn():
    from sklearn.datasets import load_digits

    ref = load_digits()
    data = load_data("digits")
    assert tuple(data.x.shape) == (1797, 1, 8, 8)
    assert data.x.dtype == torch.float32
    assert float(data.x.min()) >= 0.0
    assert float(data.x.max()) <= 1.0
    np.testing.assert_allclose(data.x[:, 0].numpy(), ref.images / 16.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(data.y.numpy(), ref.target)
    assert data.y.dtype == torch.int64
    assert data.class_names == [str(i) for i in range(10)]
    assert data.kind == "image"


def test_digits_rejects_argument():
    with pytest.raises(ValueError, match="takes no argument"):
        load_data("digits:foo")


def test_unknown_source_lists_choices():
    with pytest.raises(ValueError, match="unknown data source 'mnist'") as exc:
        load_data("mnist")
    for name in ("csv", "digits", "fashion-mnist", "image-folder"):
        assert name in str(exc.value)


# ---------------------------------------------------------------- fashion-mnist


def _idx(arr: np.ndarray) -> bytes:
    head = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim)
    head += b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def _write(path, arr, gz: bool) -> None:
    blob = _idx(arr)
    path.write_bytes(gzip.compress(blob) if gz else blob)


@pytest.fixture
def fmnist_dir(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "fm"
    d.mkdir()
    train_x = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    train_x[0, 0, 0], train_x[0, 0, 1] = 0, 255
    train_y = np.array([0, 9, 3, 3, 1, 5], dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    test_y = np.array([2, 2, 8, 7], dtype=np.uint8)
    _write(d / "train-images-idx3-ubyte.gz", train_x, gz=True)
    _write(d / "train-labels-idx1-ubyte.gz", train_y, gz=True)
    # The test split uncompressed: both forms are accepted.
    _write(d / "t10k-images-idx3-ubyte", test_x, gz=False)
    _write(d / "t10k-labels-idx1-ubyte", test_y, gz=False)
    return d, (train_x, train_y), (test_x, test_y)


def test_fashion_mnist_train_split(fmnist_dir):
    d, (train_x, train_y), _ = fmnist_dir
    data = load_data(f"fashion-mnist:{d}")
    assert tuple(data.x.shape) == (6, 1, 28, 28)
    np.testing.assert_allclose(data.x[:, 0].numpy(), train_x / 255.0, rtol=0, atol=1e-7)
    assert float(data.x[0, 0, 0, 0]) == 0.0
    assert float(data.x[0, 0, 0, 1]) == 1.0
    assert data.y.tolist() == train_y.tolist()
    assert data.kind == "image"
    assert len(data.class_names) == 10
    assert data.class_names == FASHION_MNIST_CLASSES
    assert data.class_names[0] == "T-shirt/top"
    assert data.class_names[9] == "Ankle boot"


def test_fashion_mnist_test_split_reads_t10k(fmnist_dir):
    d, _, (test_x, test_y) = fmnist_dir
    data = load_data(f"fashion-mnist:{d}", split="test")
    assert tuple(data.x.shape) == (4, 1, 28, 28)
    np.testing.assert_allclose(data.x[:, 0].numpy(), test_x / 255.0, rtol=0, atol=1e-7)
    assert data.y.tolist() == test_y.tolist()


def test_fashion_mnist_missing_dir_explains_install(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist") as exc:
        load_data(f"fashion-mnist:{missing}")
    assert "train-images-idx3-ubyte.gz" in str(exc.value)
    assert str(missing) in str(exc.value)


def test_fashion_mnist_missing_labels_file(tmp_path):
    _write(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), gz=True)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz not found"):
        load_data(f"fashion-mnist:{tmp_path}")


def test_fashion_mnist_mismatched_counts(tmp_path):
    _write(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28)), gz=True)
    _write(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(2), gz=True)
    with pytest.raises(ValueError, match="mismatched shapes"):
        load_data(f"fashion-mnist:{tmp_path}")


# ---------------------------------------------------------------- image-folder


def _save(path, arr: np.ndarray) -> None:
    mode = "L" if arr.ndim == 2 else "RGB"
    Image.fromarray(arr.astype(np.uint8), mode=mode).save(path)


@pytest.fixture
def gray_folder(tmp_path):
    """3 identities (created out of order), uint8 grayscale 5x6 PNGs; returns root and refs."""
    rng = np.random.default_rng(2)
    root = tmp_path / "faces"
    counts = {"carol": 2, "alice": 3, "bob": 1}
    refs: dict[str, list[np.ndarray]] = {}
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        refs[name] = []
        for k in range(n):
            arr = rng.integers(0, 256, size=(5, 6), dtype=np.uint8)
            _save(root / name / f"img{k}.png", arr)
            refs[name].append(arr)
    (root / "alice" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    _save(root / ".hidden" / "x.png", np.zeros((5, 6)))
    (root / "README.md").write_text("top-level file, not a class")
    return root, refs


def test_image_folder_labels_names_and_values(gray_folder):
    root, refs = gray_folder
    data = load_data(f"image-folder:{root}")
    assert data.class_names == ["alice", "bob", "carol"]
    assert data.kind == "image"
    assert tuple(data.x.shape) == (6, 1, 5, 6)
    expected_y, expected_x, expected_src = [], [], []
    for label, name in enumerate(["alice", "bob", "carol"]):
        for k, arr in enumerate(refs[name]):
            expected_y.append(label)
            expected_x.append(arr / 255.0)
            expected_src.append(str(root / name / f"img{k}.png"))
    assert data.y.tolist() == expected_y
    np.testing.assert_allclose(data.x[:, 0].numpy(), np.stack(expected_x), rtol=0, atol=1e-7)
    assert data.sources == expected_src


def test_image_folder_rgb_channels(tmp_path):
    rng = np.random.default_rng(3)
    refs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        arr = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
        _save(tmp_path / name / "p.png", arr)
        refs.append(arr)
    rgb = load_data(f"image-folder:{tmp_path}", SourceOptions(grayscale=False))
    assert tuple(rgb.x.shape) == (2, 3, 4, 5)
    for i, arr in enumerate(refs):
        # (H, W, C) -> (C, H, W)
        np.testing.assert_allclose(
            rgb.x[i].numpy(), arr.transpose(2, 0, 1) / 255.0, rtol=0, atol=1e-7
        )
    gray = load_data(f"image-folder:{tmp_path}", SourceOptions(grayscale=True))
    assert tuple(gray.x.shape) == (2, 1, 4, 5)
    for i, arr in enumerate(refs):
        # ITU-R 601-2 luma, as PIL's "L" conversion documents; allow 1 grey level of rounding.
        a = arr.astype(np.float64)
        luma = (a[..., 0] * 299 + a[..., 1] * 587 + a[..., 2] * 114) / 1000.0
        np.testing.assert_allclose(gray.x[i, 0].numpy(), luma / 255.0, rtol=0, atol=1.01 / 255)


def test_image_folder_image_size_resizes(tmp_path):
    # Uniform images: any interpolation keeps the value, so the expectation is exact.
    levels = {"a": [10, 200], "b": [128]}
    for name, vals in levels.items():
        (tmp_path / name).mkdir()
        for k, v in enumerate(vals):
            _save(tmp_path / name / f"{k}.png", np.full((7, 9), v))
    data = load_data(f"image-folder:{tmp_path}", SourceOptions(image_size=4))
    assert tuple(data.x.shape) == (3, 1, 4, 4)
    for i, v in enumerate([10, 200, 128]):
        np.testing.assert_allclose(data.x[i].numpy(), np.full((1, 4, 4), v / 255.0), atol=1e-6)


def test_image_folder_mismatched_sizes_resize_to_first(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _save(tmp_path / "a" / "0.png", np.full((6, 4), 50))  # first image: 6x4
    _save(tmp_path / "a" / "1.png", np.full((3, 10), 90))
    _save(tmp_path / "b" / "0.png", np.full((12, 8), 250))
    data = load_data(f"image-folder:{tmp_path}", SourceOptions(on_mismatch="resize"))
    assert tuple(data.x.shape) == (3, 1, 6, 4)
    for i, v in enumerate([50, 90, 250]):
        np.testing.assert_allclose(data.x[i].numpy(), np.full((1, 6, 4), v / 255.0), atol=1e-6)


def test_image_folder_mismatched_sizes_reject_names_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _save(tmp_path / "a" / "0.png", np.full((6, 4), 50))
    _save(tmp_path / "b" / "0.png", np.full((6, 4), 60))
    odd = tmp_path / "b" / "1.png"
    _save(odd, np.full((5, 4), 70))
    with pytest.raises(ValueError, match="expected 6x4") as exc:
        load_data(f"image-folder:{tmp_path}", SourceOptions(on_mismatch="reject"))
    assert str(odd) in str(exc.value)
    assert "5x4" in str(exc.value)


def test_image_folder_reject_with_matching_sizes_loads(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _save(tmp_path / name / "0.png", np.full((3, 3), 17))
    data = load_data(f"image-folder:{tmp_path}", SourceOptions(on_mismatch="reject"))
    assert tuple(data.x.shape) == (2, 1, 3, 3)


def test_image_folder_corrupt_file_names_it(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _save(tmp_path / name / "0.png", np.full((3, 3), 17))
    bad = tmp_path / "b" / "1.png"
    bad.write_bytes(np.random.default_rng(4).integers(0, 256, 200, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="cannot read image") as exc:
        load_data(f"image-folder:{tmp_path}")
    assert str(bad) in str(exc.value)


def test_image_folder_truncated_png_names_it(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _save(tmp_path / name / "0.png", np.full((3, 3), 17))
    good = tmp_path / "b" / "full.png"
    _save(good, np.random.default_rng(5).integers(0, 256, (40, 40), dtype=np.uint8))
    bad = tmp_path / "b" / "half.png"
    blob = good.read_bytes()
    bad.write_bytes(blob[: len(blob) // 2])
    good.unlink()
    with pytest.raises(ValueError) as exc:
        load_data(f"image-folder:{tmp_path}")
    assert str(bad) in str(exc.value)


def test_image_folder_needs_two_classes(tmp_path):
    (tmp_path / "only").mkdir()
    _save(tmp_path / "only" / "0.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        load_data(f"image-folder:{tmp_path}")


def test_image_folder_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_data(f"image-folder:{tmp_path / 'nope'}")
    with pytest.raises(ValueError, match="needs a path"):
        load_data("image-folder")


def test_image_folder_without_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="no images found"):
        load_data(f"image-folder:{tmp_path}")


# ---------------------------------------------------------------- csv


def test_csv_features_and_label(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("f1,label,f2\n1.5,b,2\n-3,a,4e1\n0,b,0.25\n")
    data = load_data(f"csv:{p}")
    assert data.kind == "vector"
    assert data.class_names == ["a", "b"]
    np.testing.assert_array_equal(
        data.x.numpy(), np.array([[1.5, 2.0], [-3.0, 40.0], [0.0, 0.25]], dtype=np.float32)
    )
    assert data.y.tolist() == [1, 0, 1]
    assert data.sources == [f"{p}:2", f"{p}:3", f"{p}:4"]


def test_csv_numeric_labels_sorted_naturally(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("x,label\n1,10\n2,2\n3,1\n4,2\n")
    data = load_data(f"csv:{p}")
    assert data.class_names == ["1", "2", "10"]
    assert data.y.tolist() == [2, 1, 0, 1]


def test_csv_label_column_option(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("species,a,b,label\nfox,1,2,3\ncat,4,5,6\n")
    data = load_data(f"csv:{p}", SourceOptions(label_column="species"))
    assert data.class_names == ["cat", "fox"]
    assert data.y.tolist() == [1, 0]
    # "label" is now an ordinary feature column.
    np.testing.assert_array_equal(data.x.numpy(), [[1, 2, 3], [4, 5, 6]])


def test_csv_missing_label_column_lists_columns(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(ValueError, match="no label column 'label'") as exc:
        load_data(f"csv:{p}")
    assert "columns: alpha, beta, gamma" in str(exc.value)


def test_csv_non_numeric_cell_names_line_and_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("f1,f2,label\n1,2,a\n3,oops,b\n")
    with pytest.raises(ValueError) as exc:
        load_data(f"csv:{p}")
    msg = str(exc.value)
    assert "line 3" in msg
    assert "column 'f2'" in msg
    assert "'oops'" in msg


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf"])
def test_csv_nan_or_inf_rejected(tmp_path, bad):
    p = tmp_path / "t.csv"
    p.write_text(f"f1,f2,label\n1,2,a\n3,{bad},b\n")
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_data(f"csv:{p}")


def test_csv_ragged_row(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("f1,f2,label\n1,2,a\n3,b\n")
    with pytest.raises(ValueError, match="line 3: 2 fields, header has 3"):
        load_data(f"csv:{p}")


def test_csv_missing_file_and_empty(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_data(f"csv:{tmp_path / 'none.csv'}")
    p = tmp_path / "h.csv"
    p.write_text("f1,label\n")
    with pytest.raises(ValueError, match="at least one data row"):
        load_data(f"csv:{p}")
