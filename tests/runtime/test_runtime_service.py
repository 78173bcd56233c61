"""The REST service runs an exported ONNX model (``siamkit serve --onnx``) like a torch run."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.export import export_run
from siamkit.runtime import OnnxEncoder

serving = pytest.importorskip("siamkit.serving", reason="the service needs the serve extra")
testclient = pytest.importorskip("fastapi.testclient")


def test_service_embeds_with_the_onnx_model(trained_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    export_run(trained_run, path, quantize="int8")
    files = []
    for i in range(3):
        f = tmp_path / f"{i}.png"
        img = np.random.default_rng(i).integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(img).save(f)
        files.append(f)
    enc = OnnxEncoder(path)
    expected = enc.embed_files(files)
    app = serving.load_service(trained_run, onnx=path, config=serving.ServiceConfig(read_only=True))
    with testclient.TestClient(app) as client:
        up = []
        for f in files:
            buf = io.BytesIO(f.read_bytes())
            up.append(("files", (f.name, buf.getvalue(), "image/png")))
        r = client.post("/embed", files=up)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fingerprint"] == enc.fingerprint and body["fingerprint"].endswith(":int8")
    np.testing.assert_allclose(np.array(body["embeddings"]), expected, atol=1e-6)
