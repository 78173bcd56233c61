"""load_inputs for image and vector model specs, against arrays written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.data.inputs import load_inputs
from siamkit.models.spec import ModelSpec

IMAGE_SPEC = ModelSpec(encoder="conv", input_shape=[1, 8, 8], kind="image", embedding_dim=4)
VECTOR_SPEC = ModelSpec(encoder="mlp", input_shape=[3], kind="vector", embedding_dim=4)


def _save(path, arr) -> None:
    mode = "L" if np.ndim(arr) == 2 else "RGB"
    Image.fromarray(np.asarray(arr, dtype=np.uint8), mode=mode).save(path)


# ---------------------------------------------------------------- images


def test_image_file_exact_size_values(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    f = tmp_path / "a.png"
    _save(f, arr)
    x, names = load_inputs([str(f)], IMAGE_SPEC)
    assert tuple(x.shape) == (1, 1, 8, 8)
    np.testing.assert_allclose(x[0, 0].numpy(), arr / 255.0, rtol=0, atol=1e-7)
    assert names == [str(f)]


def test_image_files_resized_to_spec(tmp_path):
    # Uniform images of other sizes: the resized value is exact whatever the interpolation.
    f1, f2 = tmp_path / "big.png", tmp_path / "wide.png"
    _save(f1, np.full((20, 20), 40))
    _save(f2, np.full((5, 13), 220))
    x, names = load_inputs([str(f1), str(f2)], IMAGE_SPEC)
    assert tuple(x.shape) == (2, 1, 8, 8)
    np.testing.assert_allclose(x[0].numpy(), np.full((1, 8, 8), 40 / 255.0), atol=1e-6)
    np.testing.assert_allclose(x[1].numpy(), np.full((1, 8, 8), 220 / 255.0), atol=1e-6)
    assert names == [str(f1), str(f2)]


def test_image_reject_mismatch_names_file(tmp_path):
    f = tmp_path / "small.png"
    _save(f, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="expected 8x8") as exc:
        load_inputs([str(f)], IMAGE_SPEC, on_mismatch="reject")
    assert str(f) in str(exc.value)


def test_rgb_image_converted_to_spec_channels(tmp_path):
    f = tmp_path / "c.png"
    _save(f, np.full((8, 8, 3), [100, 100, 100]))  # grey in RGB -> same level in L
    x, _ = load_inputs([str(f)], IMAGE_SPEC)
    assert tuple(x.shape) == (1, 1, 8, 8)
    np.testing.assert_allclose(x.numpy(), np.full((1, 1, 8, 8), 100 / 255.0), atol=1e-6)
    rgb_spec = ModelSpec(encoder="conv", input_shape=[3, 8, 8], kind="image", embedding_dim=4)
    x3, _ = load_inputs([str(f)], rgb_spec)
    assert tuple(x3.shape) == (1, 3, 8, 8)


def test_image_folder_recursive_sorted(tmp_path):
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    levels = {root / "b.png": 10, root / "a.png": 20, root / "sub" / "c.png": 30}
    for p, v in levels.items():
        _save(p, np.full((8, 8), v))
    (root / "notes.txt").write_text("ignored")
    extra = tmp_path / "z.png"
    _save(extra, np.full((8, 8), 40))
    x, names = load_inputs([str(root), str(extra)], IMAGE_SPEC)
    expected = [*sorted(levels), extra]
    assert names == [str(p) for p in expected]
    for i, p in enumerate(expected):
        v = levels.get(p, 40)
        np.testing.assert_allclose(x[i].numpy(), np.full((1, 8, 8), v / 255.0), atol=1e-6)


def test_empty_folder_raises(tmp_path):
    (tmp_path / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match="holds no image files"):
        load_inputs([str(tmp_path)], IMAGE_SPEC)


def test_nonexistent_image_path_raises(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(ValueError, match="does not exist") as exc:
        load_inputs([str(missing)], IMAGE_SPEC)
    assert str(missing) in str(exc.value)


def test_non_image_file_raises_naming_it(tmp_path):
    f = tmp_path / "fake.png"
    f.write_bytes(b"definitely not a png file" * 4)
    with pytest.raises(ValueError, match="cannot read image") as exc:
        load_inputs([str(f)], IMAGE_SPEC)
    assert str(f) in str(exc.value)


def test_no_inputs_raises():
    with pytest.raises(ValueError, match="no inputs"):
        load_inputs([], IMAGE_SPEC)


# ---------------------------------------------------------------- vectors


def test_literal_vector():
    x, names = load_inputs(["1,2,3", "-0.5, 4e2 ,0"], VECTOR_SPEC)
    np.testing.assert_array_equal(x.numpy(), np.array([[1, 2, 3], [-0.5, 400, 0]], np.float32))
    assert x.dtype.is_floating_point
    assert names == ["1,2,3", "-0.5, 4e2 ,0"]


def test_npy_one_and_two_dimensional(tmp_path):
    one, two = tmp_path / "one.npy", tmp_path / "two.npy"
    v = np.array([0.25, -1.0, 7.0])
    m = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.save(one, v)
    np.save(two, m)
    x, names = load_inputs([str(one), str(two), "9,8,7"], VECTOR_SPEC)
    expected = np.vstack([v, m, [9, 8, 7]]).astype(np.float32)
    np.testing.assert_array_equal(x.numpy(), expected)
    assert names == [f"{one}[0]", f"{two}[0]", f"{two}[1]", "9,8,7"]


def test_csv_label_column_ignored(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("a,label,b,c\n1,cat,2,3\n4,dog,5,6.5\n")
    x, names = load_inputs([str(f)], VECTOR_SPEC)
    np.testing.assert_array_equal(x.numpy(), np.array([[1, 2, 3], [4, 5, 6.5]], np.float32))
    assert names == [f"{f}:2", f"{f}:3"]


def test_csv_non_numeric_raises(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("a,b,c\n1,x,3\n")
    with pytest.raises(ValueError, match="non-numeric") as exc:
        load_inputs([str(f)], VECTOR_SPEC)
    assert str(f) in str(exc.value)


@pytest.mark.parametrize("literal", ["1,2", "1,2,3,4"])
def test_wrong_length_says_expected_number(literal):
    n = len(literal.split(","))
    with pytest.raises(ValueError) as exc:
        load_inputs([literal], VECTOR_SPEC)
    assert f"has {n} features" in str(exc.value)
    assert "the model takes 3" in str(exc.value)


def test_wrong_length_npy(tmp_path):
    f = tmp_path / "m.npy"
    np.save(f, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="the model takes 3"):
        load_inputs([str(f)], VECTOR_SPEC)


@pytest.mark.parametrize("literal", ["1,nan,3", "inf,0,0"])
def test_nan_literal_rejected(literal):
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_inputs([literal], VECTOR_SPEC)


def test_nan_npy_rejected(tmp_path):
    f = tmp_path / "n.npy"
    np.save(f, np.array([[1.0, 2.0, 3.0], [np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_inputs([str(f)], VECTOR_SPEC)


@pytest.mark.parametrize("literal", ["1,two,3", "a", "1,,3"])
def test_non_numeric_literal_raises(literal):
    with pytest.raises(ValueError, match="neither a file nor a comma-separated vector"):
        load_inputs([literal], VECTOR_SPEC)


def test_vector_model_rejects_other_file_types(tmp_path):
    f = tmp_path / "v.txt"
    f.write_text("1,2,3")
    with pytest.raises(ValueError, match=r"takes \.npy or \.csv"):
        load_inputs([str(f)], VECTOR_SPEC)


def test_vector_spec_with_multi_dim_shape_flattens(tmp_path):
    spec = ModelSpec(encoder="mlp", input_shape=[2, 3], kind="vector", embedding_dim=4)
    f = tmp_path / "m.npy"
    arr = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    np.save(f, arr)
    x, _ = load_inputs([str(f)], spec)
    np.testing.assert_array_equal(x.numpy(), arr.reshape(2, 6))


@pytest.mark.parametrize("case", ["header_only_csv", "empty_csv", "scalar_npy"])
def test_degenerate_vector_files_raise_value_error(tmp_path, case):
    if case == "header_only_csv":
        f = tmp_path / "h.csv"
        f.write_text("a,b,c\n")
    elif case == "empty_csv":
        f = tmp_path / "e.csv"
        f.write_text("")
    else:
        f = tmp_path / "s.npy"
        np.save(f, np.float32(3.0))
    with pytest.raises(ValueError) as exc:
        load_inputs([str(f)], VECTOR_SPEC)
    assert str(f) in str(exc.value)


def test_images_under_walks_subfolders_in_path_order(tmp_path: Path) -> None:
    from siamkit.data.images import images_under

    for rel in ["b/2.png", "a/1.JPG", "a/notes.txt", "c.png", "a/deep/3.jpeg"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    want = [tmp_path / r for r in ["a/1.JPG", "a/deep/3.jpeg", "b/2.png", "c.png"]]
    assert images_under(tmp_path) == want
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"folder .*empty holds no image files"):
        images_under(tmp_path / "empty")
