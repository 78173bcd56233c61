"""export_run on trained digits runs: parity, metadata, int8, the learned metric, the gates."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from safetensors.numpy import load_file

from siamkit.data import load_data, parse_classes
from siamkit.evaluation import embed_all, retrieval_metrics
from siamkit.export import MetricDropError, ParityError, export_run
from siamkit.export import run_export as run_export_module
from siamkit.run import fingerprint_weights
from siamkit.runtime import OnnxEncoder
from siamkit.training import load_run, train

from conftest import tiny_config


def _eval_items(run_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    run = load_run(run_dir)
    data = load_data(run.config.data, split="test")
    ev = data.of_classes(parse_classes(run.config.eval_classes, data.class_names))
    return ev.x, ev.y


@pytest.fixture(scope="module")
def fp32_export(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("export") / "digits.onnx"
    return out, export_run(trained_run, out)


@pytest.fixture(scope="module")
def int8_export(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("export") / "digits-int8.onnx"
    return out, export_run(trained_run, out, quantize="int8")


def test_fp32_export_matches_pytorch_for_any_batch_size(trained_run: Path, fp32_export) -> None:
    path, report = fp32_export
    assert report.parity.min_cosine >= 0.9999 and report.parity.num_items == 256
    assert report.metric_change is None and report.int8_parity is None
    run = load_run(trained_run)
    x, _ = _eval_items(trained_run)
    enc = OnnxEncoder(path)
    for n in (1, 7, 300):  # the batch axis is dynamic
        expected = embed_all(run.model, x[:n]).numpy()
        got = enc.embed(x[:n].numpy())
        assert got.shape == (n, 16)
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_metadata_carries_the_run(trained_run: Path, fp32_export) -> None:
    path, _ = fp32_export
    meta = OnnxEncoder(path).metadata
    run = load_run(trained_run)
    standardize = run.model.encoder[0]
    assert meta.kind == "image" and meta.input_shape == [1, 8, 8]
    assert meta.input_names == ["input"] and meta.encoder == "conv"
    assert meta.input_mean == pytest.approx(standardize.mean.flatten().tolist())
    assert meta.input_std == pytest.approx(standardize.std.flatten().tolist())
    assert (meta.distance, meta.source_distance, meta.larger_is_closer) == (
        "euclidean", "euclidean", False)  # fmt: skip
    assert meta.embedding_dim == 16 and meta.normalize is True
    assert meta.threshold == pytest.approx(run.metrics["threshold"])
    assert meta.threshold_source == "operating_point"  # the shared run's, from its refit
    assert meta.quantization == "none" and meta.opset == 17
    # the fingerprint of the safetensors file read by numpy alone (no torch in the reference)
    weights = load_file(str(trained_run / "best" / "model.safetensors"))
    assert meta.fingerprint == fingerprint_weights(weights)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_calibrated_threshold_is_exported(trained_run: Path, tmp_path: Path) -> None:
    from siamkit.evaluation.calibrated_run import calibrate_run
    from siamkit.run import Calibration

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run, run_dir)
    calibrate_run(run_dir, num_pairs=1000)
    export_run(run_dir, tmp_path / "m.onnx")
    enc = OnnxEncoder(tmp_path / "m.onnx")
    cal = Calibration.load(run_dir)
    assert cal is not None
    assert enc.threshold == pytest.approx(cal.threshold)
    assert enc.metadata.threshold_source == "calibration"


def test_int8_static_export_is_quantized_and_scored_against_references(
    trained_run: Path, int8_export
) -> None:
    path, report = int8_export
    meta = OnnxEncoder(path).metadata
    assert meta.quantization == "int8-static"
    weights = load_file(str(trained_run / "best" / "model.safetensors"))
    assert meta.fingerprint == fingerprint_weights(weights, variant="int8")
    model = onnx.load(str(path))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    int8_weights = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert int8_weights, "no int8 weight tensors in the quantized graph"
    # the metric change, recomputed here from both models with the evaluation functions
    x, y = _eval_items(trained_run)
    torch_map = retrieval_metrics(embed_all(load_run(trained_run).model, x), y).map_at_r
    onnx_map = retrieval_metrics(OnnxEncoder(path).embed(x.numpy()), y).map_at_r
    change = report.metric_change
    assert change is not None and change.num_items == len(y)
    assert change.reference_map_at_r == pytest.approx(torch_map, abs=1e-6)
    assert change.candidate_map_at_r == pytest.approx(onnx_map, abs=1e-6)
    assert change.map_at_r_drop == pytest.approx(torch_map - onnx_map, abs=1e-6)
    assert 0.5 < change.reference_roc_auc <= 1.0 and 0.5 < change.candidate_roc_auc <= 1.0
    assert abs(change.map_at_r_drop) < 0.05  # int8 stays close to fp32 on this model
    assert report.int8_parity is not None and report.int8_parity.min_cosine > 0.99


def test_metric_drop_beyond_tolerance_writes_nothing(
    trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.onnx"
    out.write_bytes(b"previous file")
    real = run_export_module.onnx_embeddings

    def degraded(path: Path, x: torch.Tensor, target: object) -> np.ndarray:
        emb = real(path, x, target)
        return np.random.default_rng(0).permutation(emb)  # rows shuffled: retrieval collapses

    monkeypatch.setattr(run_export_module, "onnx_embeddings", degraded)
    with pytest.raises(MetricDropError, match=r"max-metric-drop 0\.02"):
        export_run(trained_run, out, quantize="int8", max_metric_drop=0.02)
    assert out.read_bytes() == b"previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary left


def test_parity_failure_writes_nothing(
    trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siamkit.export import parity

    real = parity.onnx_embeddings
    monkeypatch.setattr(parity, "onnx_embeddings", lambda p, x, t: real(p, x, t) + 0.05)
    with pytest.raises(ParityError, match="min cosine"):
        export_run(trained_run, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_learned_metric_is_folded_into_the_graph(tmp_path: Path) -> None:
    run_dir = tmp_path / "maha"
    train(tiny_config(run_dir, distance="mahalanobis", epochs=1), progress=False)
    export_run(run_dir, tmp_path / "m.onnx")
    enc = OnnxEncoder(tmp_path / "m.onnx")
    assert (enc.distance, enc.metadata.source_distance) == ("euclidean", "mahalanobis")
    run = load_run(run_dir)
    x, _ = _eval_items(run_dir)
    emb = embed_all(run.model, x[:40])
    with torch.no_grad():
        expected = run.model.distance.pairwise(emb[:20], emb[20:]).numpy()
    z = enc.embed(x[:40].numpy())
    np.testing.assert_allclose(enc.pair_distances(z[:20], z[20:]), expected, atol=1e-4)


def test_vector_run_exports_and_quantizes(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    csv = tmp_path / "digits.csv"
    header = ",".join(f"f{i}" for i in range(64)) + ",label"
    rows = [",".join(map(str, r)) + f",{y}" for r, y in zip(d.data.astype(int), d.target)]
    csv.write_text(header + "\n" + "\n".join(rows) + "\n")
    run_dir = tmp_path / "vec"
    train(tiny_config(run_dir, data=f"csv:{csv}", encoder="mlp", widths=[32]), progress=False)
    report = export_run(run_dir, tmp_path / "v.onnx", quantize="int8")
    enc = OnnxEncoder(tmp_path / "v.onnx")
    assert enc.kind == "vector" and enc.input_shape == (64,)
    assert enc.metadata.quantization == "int8-static"
    assert report.parity.min_cosine >= 0.9999
    run = load_run(run_dir)
    x = torch.from_numpy(d.data[:50].astype(np.float32))
    ref = embed_all(run.model, x).numpy()
    got = enc.embed(x.numpy())
    cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    assert cos.min() > 0.99  # int8 vs fp32 PyTorch


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantize": "int4"}, "unknown quantization 'int4'; choose one of: int8"),
        ({"opset": 11}, "opset 11 is too old"),
        ({"max_metric_drop": -0.1}, "max_metric_drop must be >= 0"),
    ],
)
def test_bad_arguments_are_named(trained_run: Path, tmp_path: Path, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        export_run(trained_run, tmp_path / "m.onnx", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_not_a_run_or_not_onnx_name(tmp_path: Path, trained_run: Path) -> None:
    with pytest.raises(ValueError, match="not a finished siamkit run"):
        export_run(tmp_path, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"should end in \.onnx"):
        export_run(trained_run, tmp_path / "m.bin")
