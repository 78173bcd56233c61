"""`--onnx`: the service runs an exported model through onnxruntime; its answers equal the
PyTorch checkpoint's (float32 tolerance) and the gallery accepts it (same fingerprint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.service_fakes import KEY, b64, png_bytes
from siamkit.index import Gallery
from siamkit.serving import ServiceConfig, load_service


@pytest.mark.slow
def test_onnx_model_answers_like_the_checkpoint(calibrated_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from siamkit.export import export_run

    onnx = tmp_path / "model.onnx"
    export_run(calibrated_run, onnx, parity_items=64, num_pairs=500)
    Gallery.create(tmp_path / "g", calibrated_run).close()
    rng = np.random.default_rng(0)
    images = [png_bytes(rng.integers(0, 256, (8, 8)).astype(np.uint8)) for _ in range(3)]
    body = {"inputs": [{"image_base64": b64(p)} for p in images]}
    verify = {"a": {"image_base64": b64(images[0])}, "b": {"image_base64": b64(images[1])}}
    answers = []
    for model in (None, onnx):
        app = load_service(
            calibrated_run, tmp_path / "g", onnx=model, config=ServiceConfig(api_key=KEY)
        )
        with TestClient(app) as client:
            emb = np.array(client.post("/embed", json=body).json()["embeddings"])
            v = client.post("/verify", json=verify).json()
            h = client.get("/healthz").json()
            answers.append((emb, v, h))
    (e_torch, v_torch, h_torch), (e_onnx, v_onnx, h_onnx) = answers
    np.testing.assert_allclose(e_onnx, e_torch, atol=1e-4)
    assert v_onnx["distance"] == pytest.approx(v_torch["distance"], abs=1e-4)
    assert v_onnx["threshold"] == v_torch["threshold"] and v_onnx["same"] == v_torch["same"]
    assert h_onnx["fingerprint"] == h_torch["fingerprint"]
