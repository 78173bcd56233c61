"""/embed, /verify, /healthz and /metrics against references: the CLI's own image path,
the run's calibration, and hand-worked vectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from scipy.special import expit

from serving.service_fakes import KEY, TextEmbedder, b64, platt_rule, png_bytes
from siamkit.data import load_data
from siamkit.data.images import load_image
from siamkit.evaluation import embed_all
from siamkit.run import Calibration
from siamkit.serving import ServiceConfig, create_app, load_service
from siamkit.training import load_run


def _digit(i: int) -> np.ndarray:
    x = load_data("digits").x[i, 0].numpy()
    return (x * 255).round().astype(np.uint8)  # (8, 8)


@pytest.fixture(scope="module")
def image_client(calibrated_run: Path) -> Iterator[TestClient]:
    app = load_service(calibrated_run, config=ServiceConfig(read_only=True))
    with TestClient(app) as client:
        yield client


def _reference_embeddings(run_dir: Path, files: list[Path]) -> np.ndarray:
    run = load_run(run_dir)
    x = torch.stack([load_image(f, 1, (8, 8)) for f in files])
    return embed_all(run.model, x).numpy()


def test_embed_image_upload_and_base64_match_the_cli_image_path(
    image_client: TestClient, calibrated_run: Path, tmp_path: Path
) -> None:
    files = []
    for i in (0, 1, 2):
        path = tmp_path / f"{i}.png"
        path.write_bytes(png_bytes(_digit(i)))
        files.append(path)
    expected = _reference_embeddings(calibrated_run, files)
    up = [("files", (f.name, f.read_bytes(), "image/png")) for f in files]
    r = image_client.post("/embed", files=up)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["embedding_dim"] == 16 and body["distance"] == "euclidean"
    np.testing.assert_allclose(np.array(body["embeddings"]), expected, atol=1e-5)
    r = image_client.post(
        "/embed", json={"inputs": [{"image_base64": b64(f.read_bytes())} for f in files]}
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["embeddings"]), expected, atol=1e-5)


def test_a_larger_rgb_image_is_converted_and_resized_as_load_image_does(
    image_client: TestClient, calibrated_run: Path, tmp_path: Path
) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(rgb))
    expected = _reference_embeddings(calibrated_run, [path])
    r = image_client.post("/embed", files={"files": ("big.png", path.read_bytes(), "image/png")})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["embeddings"]), expected, atol=1e-5)


def test_verify_uses_the_runs_calibration(
    image_client: TestClient, calibrated_run: Path, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(png_bytes(_digit(0)))
    b.write_bytes(png_bytes(_digit(1)))
    ea, eb = _reference_embeddings(calibrated_run, [a, b])
    d = float(np.linalg.norm(ea - eb))
    cal = Calibration.load(calibrated_run)
    assert cal is not None
    r = image_client.post(
        "/verify",
        files={
            "a": ("a.png", a.read_bytes(), "image/png"),
            "b": ("b.png", b.read_bytes(), "image/png"),
        },
    )
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["distance"] == pytest.approx(d, abs=1e-5)
    assert v["threshold"] == cal.threshold
    assert v["same"] == (d <= cal.threshold)
    assert v["probability"] == pytest.approx(float(cal.probability_map.predict([d])[0]), abs=1e-5)
    same = image_client.post(
        "/verify",
        json={
            "a": {"image_base64": b64(a.read_bytes())},
            "b": {"image_base64": b64(a.read_bytes())},
        },
    ).json()
    assert same["distance"] == pytest.approx(0.0, abs=1e-5) and same["same"] is True


def test_verify_vectors_hand_worked(vector_client: tuple[TestClient, object]) -> None:
    client, _ = vector_client
    # W keeps the first two features: embeddings (0, 0) and (3, 4), euclidean distance 5
    r = client.post("/verify", json={"a": {"vector": [0, 0, 7, 7]}, "b": {"vector": [3, 4, -1, 2]}})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["distance"] == pytest.approx(5.0)
    assert v["same"] is False and v["threshold"] == 1.0 and v["metric"] == "euclidean"
    assert v["probability"] == pytest.approx(float(expit(-4 * 5 + 4)))
    v = client.post(
        "/verify", json={"a": {"vector": [0, 0, 0, 0]}, "b": {"vector": [0.6, 0.8, 0, 0]}}
    ).json()
    assert v["distance"] == pytest.approx(1.0) and v["same"] is True
    assert v["probability"] == pytest.approx(0.5)


def test_embed_vectors_and_texts_hand_worked(vector_client: tuple[TestClient, object]) -> None:
    client, _ = vector_client
    r = client.post(
        "/embed", json={"inputs": [{"vector": [1, 2, 3, 4]}, {"vector": [-1, 0, 0, 9]}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["embeddings"] == [[1.0, 2.0], [-1.0, 0.0]]
    app = create_app(TextEmbedder(), platt_rule(), ServiceConfig(read_only=True))
    with TestClient(app) as text_client:
        r = text_client.post("/embed", json={"inputs": [{"text": "abba"}, {"text": "dad c"}]})
        assert r.status_code == 200, r.text
        assert r.json()["embeddings"] == [[2, 2, 0, 0], [1, 0, 1, 2]]
        v = text_client.post("/verify", json={"a": {"text": "aaa"}, "b": {"text": "a"}}).json()
        assert v["distance"] == pytest.approx(2.0) and v["same"] is False


def test_healthz_describes_the_model(image_client: TestClient, calibrated_run: Path) -> None:
    from siamkit.run.torch_embedder import RunEmbedder

    h = image_client.get("/healthz").json()
    ref = RunEmbedder(calibrated_run)
    assert h == {
        "status": "ok",
        "kind": "image",
        "embedding_dim": 16,
        "distance": "euclidean",
        "fingerprint": ref.fingerprint,
        "calibrated": True,
        "gallery_items": None,
        "writable": False,
    }


def test_metrics_count_requests_by_route_and_status(
    vector_client: tuple[TestClient, object],
) -> None:
    client, _ = vector_client
    for _ in range(3):
        client.post("/embed", json={"inputs": [{"vector": [1, 2, 3, 4]}]})
    client.post("/embed", json={"inputs": [{"vector": [1, 2]}]})  # 422
    client.get("/items/7")  # gallery missing: 503, labelled by its route template
    text = client.get("/metrics").text
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert lines['siamkit_requests_total{method="POST",path="/embed",status="200"}'] == "3"
    assert lines['siamkit_requests_total{method="POST",path="/embed",status="422"}'] == "1"
    assert lines['siamkit_request_duration_seconds_count{method="POST",path="/embed"}'] == "4"
    assert (
        lines['siamkit_request_duration_seconds_bucket{method="POST",path="/embed",le="+Inf"}']
        == "4"
    )
    buckets = [
        int(v)
        for k, v in lines.items()
        if k.startswith('siamkit_request_duration_seconds_bucket{method="POST",path="/embed"')
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert lines["siamkit_batch_size_count"] == "3"  # the 422 never reached the model
    assert lines["siamkit_batch_size_sum"] == "3.0"


def test_openapi_documents_every_endpoint_and_both_encodings(image_client: TestClient) -> None:
    spec = image_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/embed", "post"), ("/verify", "post"), ("/identify", "post"), ("/enroll", "post"),
        ("/items/{item_id}", "get"), ("/items/{item_id}", "delete"), ("/similar/{item_id}", "get"),
        ("/healthz", "get"), ("/metrics", "get"),
    ]:  # fmt: skip
        assert method in paths[path], (path, method)
    content = paths["/verify"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert "VerifyRequest" in spec["components"]["schemas"]
    assert "Input" in spec["components"]["schemas"]
    assert image_client.get("/docs").status_code == 200


def test_no_gallery_gives_503_naming_the_flag(vector_client: tuple[TestClient, object]) -> None:
    client, _ = vector_client
    r = client.post("/identify", json={"input": {"vector": [1, 2, 3, 4]}})
    assert r.status_code == 503
    assert "--gallery" in r.json()["error"]["message"]
    r = client.post("/enroll", json={"items": []}, headers={"X-API-Key": KEY})
    assert r.status_code == 503
    assert json.loads(r.text)["error"]["code"] == "no_gallery"
