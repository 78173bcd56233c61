"""API key, write mode, size limits and every bad input: a 4xx JSON error naming the problem,
and the next good request is still served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.service_fakes import KEY, LinearEmbedder, TextEmbedder, b64, platt_rule, png_bytes
from siamkit.index import Gallery
from siamkit.serving import ServiceConfig, create_app, is_loopback, load_service

GOOD = {"a": {"vector": [0, 0, 0, 0]}, "b": {"vector": [3, 4, 0, 0]}}


def _error(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    return message


def _still_serving(client: TestClient) -> None:
    r = client.post("/verify", json=GOOD)
    assert r.status_code == 200 and r.json()["distance"] == pytest.approx(5.0)


def _vector_app(**config: Any) -> TestClient:
    emb = LinearEmbedder(np.eye(4, 2, dtype=np.float32))
    return TestClient(create_app(emb, platt_rule(), ServiceConfig(**config)))


# -- start-up checks ----------------------------------------------------------------------------
def test_write_mode_without_a_key_is_refused_unless_local_and_insecure() -> None:
    with pytest.raises(ValueError, match="SIAMKIT_API_KEY"):
        ServiceConfig().check()
    with pytest.raises(ValueError, match="loopback"):
        ServiceConfig(host="0.0.0.0", insecure_local=True).check()
    with pytest.raises(ValueError, match="at least 16"):
        ServiceConfig(api_key="short").check()
    with pytest.raises(ValueError, match="max_batch"):
        ServiceConfig(read_only=True, max_batch=0).check()
    ServiceConfig(host="127.0.0.1", insecure_local=True).check()
    ServiceConfig(host="::1", insecure_local=True).check()
    ServiceConfig(host="0.0.0.0", api_key=KEY).check()
    ServiceConfig(host="0.0.0.0", read_only=True).check()
    emb = LinearEmbedder(np.eye(4, 2, dtype=np.float32))
    with pytest.raises(ValueError, match="SIAMKIT_API_KEY"):
        create_app(emb, platt_rule(), ServiceConfig(host="0.0.0.0"))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.5.0.9", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
     ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- the API key --------------------------------------------------------------------------------
@pytest.fixture()
def gallery_client(calibrated_run: Path, tmp_path: Path) -> Iterator[TestClient]:
    Gallery.create(tmp_path / "g", calibrated_run).close()
    app = load_service(calibrated_run, tmp_path / "g", config=ServiceConfig(api_key=KEY))
    with TestClient(app) as client:
        yield client


def _enroll(client: TestClient, headers: dict[str, str]) -> Any:
    png = png_bytes(np.zeros((8, 8), np.uint8))
    body = {"items": [{"input": {"image_base64": b64(png)}, "label": "x"}]}
    return client.post("/enroll", json=body, headers=headers)


def test_writes_need_the_key_in_either_header(gallery_client: TestClient) -> None:
    r = _enroll(gallery_client, {})
    assert "X-API-Key" in _error(r, 401, "missing_api_key")
    assert r.headers["www-authenticate"].startswith("Bearer")
    _error(_enroll(gallery_client, {"X-API-Key": KEY[:-1] + "?"}), 403, "wrong_api_key")
    _error(_enroll(gallery_client, {"Authorization": "Bearer nope"}), 403, "wrong_api_key")
    _error(_enroll(gallery_client, {"Authorization": f"Basic {KEY}"}), 401, "missing_api_key")
    assert gallery_client.get("/healthz").json()["gallery_items"] == 0  # nothing written
    (first,) = _enroll(gallery_client, {"X-API-Key": KEY}).json()["ids"]
    (second,) = _enroll(gallery_client, {"Authorization": f"Bearer {KEY}"}).json()["ids"]
    _error(gallery_client.delete(f"/items/{first}"), 401, "missing_api_key")
    _error(
        gallery_client.delete(f"/items/{first}", headers={"X-API-Key": "x" * 20}),
        403,
        "wrong_api_key",
    )
    assert gallery_client.delete(f"/items/{first}", headers={"X-API-Key": KEY}).status_code == 200
    # reads need no key
    assert gallery_client.get(f"/items/{second}").status_code == 200
    assert gallery_client.get(f"/similar/{second}").status_code == 200


def test_read_only_and_insecure_local(calibrated_run: Path, tmp_path: Path) -> None:
    Gallery.create(tmp_path / "g", calibrated_run).close()
    ro = load_service(calibrated_run, tmp_path / "g", config=ServiceConfig(read_only=True))
    with TestClient(ro) as client:
        assert "--read-only" in _error(_enroll(client, {"X-API-Key": KEY}), 403, "read_only")
        assert client.get("/healthz").json()["writable"] is False
    local = load_service(calibrated_run, tmp_path / "g", config=ServiceConfig(insecure_local=True))
    with TestClient(local) as client:
        assert _enroll(client, {}).status_code == 200
        assert client.get("/healthz").json()["writable"] is True


# -- limits -------------------------------------------------------------------------------------
def test_body_limit_by_content_length_and_while_streaming() -> None:
    with _vector_app(read_only=True, max_body_bytes=1000) as client:
        big = json.dumps({"inputs": [{"vector": [0.123456789] * 4}] * 40})
        assert len(big) > 1000
        r = client.post("/embed", content=big, headers={"content-type": "application/json"})
        assert "1000 bytes" in _error(r, 413, "body_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(100):
                yield b" " * 100

        r = client.post("/embed", content=chunks(), headers={"content-type": "application/json"})
        _error(r, 413, "body_too_large")
        _still_serving(client)
        assert client.post("/embed", json={"inputs": [{"vector": [1, 2, 3, 4]}]}).status_code == 200
        metrics = client.get("/metrics").text
        assert 'path="/embed",status="413"} 2' in metrics


def test_pixel_text_and_item_limits() -> None:
    with TestClient(
        create_app(
            _image_embedder(), platt_rule(), ServiceConfig(read_only=True, max_image_pixels=100)
        )
    ) as client:
        ok = png_bytes(np.zeros((10, 10), np.uint8))
        assert (
            client.post("/embed", files={"files": ("ok.png", ok, "image/png")}).status_code == 200
        )
        big = png_bytes(np.zeros((11, 10), np.uint8))
        msg = _error(
            client.post("/embed", files={"files": ("big.png", big, "image/png")}),
            413,
            "image_too_large",
        )
        assert "big.png" in msg and "110 pixels" in msg
    text = TestClient(
        create_app(TextEmbedder(), platt_rule(), ServiceConfig(read_only=True, max_text_chars=5))
    )
    with text as client:
        assert client.post("/embed", json={"inputs": [{"text": "abcde"}]}).status_code == 200
        msg = _error(
            client.post("/embed", json={"inputs": [{"text": "abcdef"}]}), 413, "text_too_long"
        )
        assert "inputs[0] has 6 characters" in msg
    with _vector_app(read_only=True, max_items=2) as client:
        many = {"inputs": [{"vector": [1, 2, 3, 4]}] * 3}
        assert "limit is 2" in _error(client.post("/embed", json=many), 413, "too_many_inputs")
        _still_serving(client)


class _ImageEmbedder(LinearEmbedder):
    kind = "image"

    def embed(self, inputs: Any) -> np.ndarray:
        x = np.asarray(inputs, dtype=np.float32)
        return x.reshape(len(x), -1)[:, :2]


def _image_embedder() -> _ImageEmbedder:
    emb = _ImageEmbedder(np.zeros((64, 2), np.float32))
    emb.input_shape = (1, 8, 8)
    return emb


# -- bad input ----------------------------------------------------------------------------------
def test_each_bad_input_is_a_named_4xx_and_the_service_keeps_serving() -> None:
    with _vector_app(api_key=KEY) as client:
        cases = [
            ({"a": {"vector": [1, 2, 3]}, "b": GOOD["b"]}, 422, "vector_length", "a has 3 values"),
            ({"a": {"text": "hello"}, "b": GOOD["b"]}, 422, "wrong_modality", "vectors"),
            ({"a": {"image_base64": b64(b"x")}, "b": GOOD["b"]}, 422, "wrong_modality", "image"),
            (
                {"a": {"vector": [1, 2, 3, 4], "text": "x"}, "b": GOOD["b"]},
                422,
                "invalid_request",
                "exactly one",
            ),
            ({"a": GOOD["a"]}, 422, "invalid_request", "b: Field required"),
            ({"a": GOOD["a"], "b": GOOD["b"], "c": 1}, 422, "invalid_request", "c: Extra inputs"),
        ]
        for body, status, code, words in cases:
            assert words in _error(client.post("/verify", json=body), status, code)
            _still_serving(client)
        nan = '{"a": {"vector": [NaN, 0, 0, 0]}, "b": {"vector": [0, 0, 0, 0]}}'
        r = client.post("/verify", content=nan, headers={"content-type": "application/json"})
        assert "a holds NaN" in _error(r, 422, "vector_not_finite")
        huge = {"a": {"vector": [1e39, 0, 0, 0]}, "b": GOOD["b"]}  # overflows float32
        _error(client.post("/verify", json=huge), 422, "vector_not_finite")
        r = client.post(
            "/verify", content="{not json", headers={"content-type": "application/json"}
        )
        _error(r, 422, "invalid_request")
        r = client.post("/verify", content="a=1", headers={"content-type": "text/plain"})
        assert "text/plain" in _error(r, 415, "unsupported_media_type")
        _error(client.post("/embed", json={"inputs": []}), 422, "no_inputs")
        _error(client.get("/nowhere"), 404, "not_found")
        _still_serving(client)


def test_bad_images_and_texts() -> None:
    with TestClient(
        create_app(_image_embedder(), platt_rule(), ServiceConfig(read_only=True))
    ) as client:
        r = client.post(
            "/embed", files={"files": ("junk.png", b"\x89PNG but not really", "image/png")}
        )
        assert "junk.png" in _error(r, 422, "image_undecodable")
        r = client.post("/embed", json={"inputs": [{"image_base64": "***"}]})
        assert "base64" in _error(r, 422, "invalid_base64")
        truncated = png_bytes(np.zeros((8, 8), np.uint8))[:30]
        _error(
            client.post("/embed", json={"inputs": [{"image_base64": b64(truncated)}]}),
            422,
            "image_undecodable",
        )
        r = client.post(
            "/verify", files={"a": ("a.png", png_bytes(np.zeros((8, 8), np.uint8)), "image/png")}
        )
        assert "'b'" in _error(r, 422, "missing_input")
        r = client.post(
            "/embed", data={"files": "not a file"}, files={"other": ("x", b"", "text/plain")}
        )
        _error(r, 422, "not_a_file")
        r = client.post("/embed", json={"inputs": [{"vector": [1.0] * 64}]})
        _error(r, 422, "wrong_modality")
        data_url = "data:image/png;base64," + b64(png_bytes(np.full((8, 8), 255, np.uint8)))
        r = client.post("/embed", json={"inputs": [{"image_base64": data_url}]})
        assert r.status_code == 200 and r.json()["embeddings"] == [[1.0, 1.0]]
    with TestClient(
        create_app(TextEmbedder(), platt_rule(), ServiceConfig(read_only=True))
    ) as client:
        r = client.post("/verify", json={"a": {"text": "  "}, "b": {"text": "abc"}})
        assert "a is an empty text" in _error(r, 422, "empty_text")
        _error(client.post("/embed", json={"inputs": [{"vector": [1, 2]}]}), 422, "wrong_modality")
        assert (
            client.post("/verify", json={"a": {"text": "ab"}, "b": {"text": "abc"}}).status_code
            == 200
        )


def test_a_model_that_fails_on_one_request_does_not_fail_the_others() -> None:
    class Picky(LinearEmbedder):
        def embed(self, inputs: Any) -> np.ndarray:
            x = np.asarray(inputs, dtype=np.float32)
            if (x == 13).any():
                raise ValueError("13 is unlucky")
            return super().embed(x)

    app = create_app(
        Picky(np.eye(4, 2, dtype=np.float32)), platt_rule(), ServiceConfig(read_only=True)
    )
    with TestClient(app) as client:
        r = client.post("/embed", json={"inputs": [{"vector": [13, 0, 0, 0]}]})
        assert "13 is unlucky" in _error(r, 422, "model_rejected_input")
        _still_serving(client)
