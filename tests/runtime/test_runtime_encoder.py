"""OnnxEncoder: the Embedder protocol, references for images/distances, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from PIL import Image

from siamkit.data.images import load_image
from siamkit.data.inputs import load_inputs
from siamkit.distances import get_distance
from siamkit.evaluation import embed_all
from siamkit.export import export_run
from siamkit.run import Embedder
from siamkit.runtime import (
    ModelMetadata,
    NotASiamkitModelError,
    OnnxEncoder,
    load_image_array,
    pair_distances,
)
from siamkit.training import load_run, train

from conftest import tiny_config


@pytest.fixture(scope="module")
def onnx_path(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runtime") / "digits.onnx"
    export_run(trained_run, out)
    return out


def test_satisfies_the_embedder_protocol(onnx_path: Path) -> None:
    enc = OnnxEncoder(onnx_path, num_threads=1)
    assert isinstance(enc, Embedder)
    assert (enc.kind, enc.embedding_dim, enc.distance) == ("image", 16, "euclidean")
    assert enc.input_shape == (1, 8, 8) and enc.threshold is not None


def test_embed_files_matches_the_torch_pipeline(
    trained_run: Path, onnx_path: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    files = []
    for i, size in enumerate([(8, 8), (12, 10), (8, 8)]):  # one needs resizing
        f = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(f)
        files.append(f)
    run = load_run(trained_run)
    x, _ = load_inputs([str(f) for f in files], run.spec)
    expected = embed_all(run.model, x).numpy()
    got = OnnxEncoder(onnx_path).embed_files(files)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [None, (6, 9)])
def test_numpy_image_loader_equals_the_torch_loader(tmp_path: Path, channels, size) -> None:
    f = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (10, 7, 3), dtype=np.uint8)).save(f)
    ref = load_image(f, channels, size).numpy()
    got = load_image_array(f, channels, size)
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)


def test_image_loader_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match=r"bad\.png"):
        load_image_array(bad)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "s.png")
    with pytest.raises(ValueError, match="is 4x4, expected 8x8"):
        load_image_array(tmp_path / "s.png", 1, (8, 8), on_mismatch="reject")


@pytest.mark.parametrize("name", ["euclidean", "squared_euclidean", "manhattan", "cosine"])
def test_pair_distances_equal_siamkit_distances(name: str) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(6, 5)).astype(np.float32)
    ref = get_distance(name).pairwise(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(pair_distances(a, b, name), ref, rtol=1e-5, atol=1e-6)


def test_pair_distances_hand_worked_and_unknown() -> None:
    assert pair_distances([[0.0, 0.0]], [[3.0, 4.0]], "euclidean").tolist() == [5.0]
    assert pair_distances([[0.0, 0.0]], [[3.0, 4.0]], "manhattan").tolist() == [7.0]
    with pytest.raises(ValueError, match="unknown distance 'cosin'; choose one of: cosine"):
        pair_distances([[0.0]], [[1.0]], "cosin")


def test_same_uses_the_exported_threshold(onnx_path: Path) -> None:
    enc = OnnxEncoder(onnx_path)
    assert enc.threshold is not None
    a = np.zeros((2, 16), np.float32)
    b = np.zeros((2, 16), np.float32)
    b[0, 0] = enc.threshold * 0.5  # closer than the threshold
    b[1, 0] = enc.threshold * 2.0  # farther
    assert enc.same(a, b).tolist() == [True, False]
    assert enc.same(a, b, threshold=10 * enc.threshold).tolist() == [True, True]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.zeros((2, 8, 8), np.float32), r"wrong input shape \(2, 8, 8\).*\(N, 1, 8, 8\)"),
        (np.zeros((2, 1, 28, 28), np.float32), r"wrong input shape \(2, 1, 28, 28\)"),
        (np.zeros((2, 1, 8, 8), np.uint8), "must be float in \\[0, 1\\], got dtype uint8"),
        (np.full((1, 1, 8, 8), np.nan, np.float32), "NaN or infinite"),
        (np.zeros((0, 1, 8, 8), np.float32), "nothing to embed"),
        (["a.png"], "takes a numpy array, got list; use embed_files"),
    ],
)
def test_bad_inputs_are_refused_clearly(onnx_path: Path, inputs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OnnxEncoder(onnx_path).embed(inputs)


def _plain_onnx(path: Path, props: dict[str, str] | None = None) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "plain", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in (props or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))
    return path


def test_a_non_siamkit_onnx_file_is_refused(tmp_path: Path) -> None:
    path = _plain_onnx(tmp_path / "plain.onnx")
    with pytest.raises(
        NotASiamkitModelError, match=r"plain\.onnx is not a siamkit model.*siamkit export"
    ):
        OnnxEncoder(path)


def test_other_bad_files_are_refused(tmp_path: Path, onnx_path: Path) -> None:
    with pytest.raises(ValueError, match="ONNX file not found"):
        OnnxEncoder(tmp_path / "missing.onnx")
    (tmp_path / "text.onnx").write_text("hello")
    with pytest.raises(ValueError, match=r"cannot load .*text\.onnx as an ONNX model"):
        OnnxEncoder(tmp_path / "text.onnx")
    future = _plain_onnx(tmp_path / "future.onnx", {"siamkit.format_version": "99"})
    with pytest.raises(NotASiamkitModelError, match="format 99; this siamkit reads format 1"):
        OnnxEncoder(future)
    # complete metadata from a real export, one field removed
    props = OnnxEncoder(onnx_path).metadata.to_props()
    del props["siamkit.distance"]
    partial = _plain_onnx(tmp_path / "partial.onnx", props)
    with pytest.raises(NotASiamkitModelError, match=r"'siamkit\.distance' is missing"):
        OnnxEncoder(partial)


def test_metadata_round_trip_and_validation(onnx_path: Path) -> None:
    meta = OnnxEncoder(onnx_path).metadata
    props = meta.to_props()
    assert json.loads(props["siamkit.format_version"]) == 1
    assert ModelMetadata.from_props(props) == meta
    with pytest.raises(ValueError, match="unknown model kind 'audio'"):
        ModelMetadata(**{**meta.__dict__, "kind": "audio"})
    with pytest.raises(NotASiamkitModelError, match="malformed"):
        ModelMetadata.from_props({**props, "siamkit.kind": "{not json"})


def test_vector_model_checks_feature_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    csv = tmp_path / "t.csv"
    lines = ["a,b,c,label"] + [
        f"{x[0]:.3f},{x[1]:.3f},{x[2]:.3f},{i % 4}" for i, x in enumerate(rng.normal(size=(120, 3)))
    ]
    csv.write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    cfg = tiny_config(run_dir, data=f"csv:{csv}", encoder="mlp", widths=[8], train_classes="0,1",
                      eval_classes="2,3", val_classes="none", val_fraction=0.0, epochs=1)  # fmt: skip
    train(cfg, progress=False)
    export_run(run_dir, tmp_path / "v.onnx")
    enc = OnnxEncoder(tmp_path / "v.onnx")
    assert enc.kind == "vector" and enc.threshold is None  # no validation, no calibration
    assert enc.embed(np.zeros((5, 3), np.float32)).shape == (5, 16)
    with pytest.raises(ValueError, match=r"wrong input shape \(5, 4\).*\(N, 3\)"):
        enc.embed(np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match="carries no threshold"):
        enc.same(np.zeros((1, 16)), np.zeros((1, 16)))
    with pytest.raises(ValueError, match="embed_files reads images; this is a vector model"):
        enc.embed_files(["x.png"])
