"""Dynamic int8 gives each output channel its own weight scale (hand-worked: max |W[:, j]| / 127)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from siamkit.export.quantize import REDUCE_RANGE, quantize_int8  # noqa: E402


def test_dynamic_int8_scales_each_output_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # columns whose magnitudes differ by 1,000x: one scale for all would round column 3 to 0
    w = (rng.normal(size=(8, 4)) * np.array([1.0, 10.0, 100.0, 0.1])).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 4])],
        [numpy_helper.from_array(w, "W")],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "f.onnx"
    )
    quantize_int8(tmp_path / "f.onnx", tmp_path / "q.onnx", "int8-dynamic")

    init = {
        i.name: numpy_helper.to_array(i) for i in onnx.load(tmp_path / "q.onnx").graph.initializer
    }
    levels = 64 if REDUCE_RANGE else 127  # 7-bit weights (see siamkit.export.quantize)
    np.testing.assert_allclose(init["W_scale"], np.abs(w).max(axis=0) / levels, rtol=1e-6)
    x = rng.normal(size=(5, 8)).astype(np.float32)
    (y,) = ort.InferenceSession(str(tmp_path / "q.onnx")).run(None, {"x": x})
    # every column, the small one included, keeps its relative accuracy
    rel = np.abs(y - x @ w).max(axis=0) / np.abs(x @ w).max(axis=0)
    assert (rel < 0.05).all(), rel
