"""Hostile requests and stale state against a service over a real gallery (issue 25): each is
a 4xx JSON error naming the input and the fix, and the service keeps answering."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.fakes import VectorEmbedder
from serving.service_fakes import KEY
from siamkit.index import Gallery
from siamkit.serving import ServiceConfig, create_app

AUTH = {"X-API-Key": KEY}


def _service(gallery_dir: Path, **config: object) -> TestClient:
    vec = VectorEmbedder()
    gallery = Gallery.open(gallery_dir, embedder=vec)
    rule = vec.decision_rule()
    assert rule is not None
    return TestClient(create_app(vec, rule, ServiceConfig(api_key=KEY, **config), gallery))


@pytest.fixture()
def gallery_dir(tmp_path: Path) -> Path:
    Gallery.create(tmp_path / "g", VectorEmbedder()).close()
    return tmp_path / "g"


@pytest.fixture()
def client(gallery_dir: Path) -> Iterator[TestClient]:
    with _service(gallery_dir) as c:
        yield c


def _enroll(client: TestClient, vectors: list[list[float]], label: str = "a", **extra: object):
    items = [{"input": {"vector": v}, "label": label, **extra} for v in vectors]
    return client.post("/enroll", json={"items": items}, headers=AUTH)


@pytest.mark.parametrize("bad", ["0", "-1", str(2**63), str(2**64 + 5), "9" * 40])
def test_item_ids_outside_1_to_2_63_are_a_422_not_a_500(client: TestClient, bad: str) -> None:
    assert _enroll(client, [[1, 0, 0, 0]]).status_code == 200
    for r in (
        client.get(f"/items/{bad}"),
        client.delete(f"/items/{bad}", headers=AUTH),
        client.get(f"/similar/{bad}"),
    ):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request"
        assert "item_id" in r.json()["error"]["message"]
    assert client.get("/items/1").status_code == 200  # still serving


def test_labels_and_metadata_are_bounded_over_http(client: TestClient) -> None:
    from siamkit.index.item_limits import MAX_LABEL_CHARS, MAX_METADATA_BYTES

    v = [1.0, 0.0, 0.0, 0.0]
    r = _enroll(client, [v], label="x" * (MAX_LABEL_CHARS + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "item_too_large"
    assert str(MAX_LABEL_CHARS) in r.json()["error"]["message"]
    r = _enroll(client, [v], metadata={"blob": "y" * MAX_METADATA_BYTES})
    assert r.status_code == 413 and r.json()["error"]["code"] == "item_too_large"
    assert str(MAX_METADATA_BYTES) in r.json()["error"]["message"]
    r = _enroll(client, [v], label="evil\x1b[2J")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_label"
    assert "control character" in r.json()["error"]["message"]
    assert client.get("/healthz").json()["gallery_items"] == 0
    assert _enroll(client, [v], label="x" * MAX_LABEL_CHARS).status_code == 200


def test_a_gallery_reembedded_elsewhere_is_refused_not_answered_wrongly(
    gallery_dir: Path, tmp_path: Path
) -> None:
    import numpy as np

    vectors = np.array([[3, 0, 0, 0], [0, 3, 0, 0]], dtype=np.float32)
    np.save(tmp_path / "people.npy", vectors)
    with _service(gallery_dir) as client:
        with Gallery.open(gallery_dir, embedder=VectorEmbedder()) as other:
            other.enroll([str(tmp_path / "people.npy")], label="ann")
        probe = {"input": {"vector": [3, 0, 0, 0]}, "k": 1}
        r = client.post("/identify", json=probe)
        assert r.status_code == 200 and r.json()["known"] is True  # the service's own model
        # another process (here: another handle) re-embeds the store with a new model
        with Gallery.open(gallery_dir, embedder=VectorEmbedder()) as other:
            other.reembed(VectorEmbedder(seed=1))
        for r in (
            client.post("/identify", json=probe),
            client.get("/similar/1"),
            client.get("/items/1"),
            _enroll(client, [[1, 0, 0, 0]]),
            client.delete("/items/1", headers=AUTH),
        ):
            assert r.status_code == 409, r.text
            error = r.json()["error"]
            assert error["code"] == "gallery_reembedded"
            assert "re-embedded with model vector-4-1" in error["message"]
            assert "restart the service" in error["message"]
        assert client.get("/healthz").status_code == 200  # the service keeps running


def test_error_messages_name_the_upload_not_a_python_repr(client: TestClient) -> None:
    import numpy as np

    from serving.service_fakes import LinearEmbedder, platt_rule

    img = create_app(_ImageModel(), platt_rule(), ServiceConfig(read_only=True))
    with TestClient(img) as c:
        r = c.post("/embed", files=[("files", ("face.png", b"\x89PNG not really", "image/png"))])
        assert r.status_code == 422 and r.json()["error"]["code"] == "image_undecodable"
        message = r.json()["error"]["message"]
        assert "face.png" in message and "BytesIO" not in message and "0x" not in message
    vec = create_app(
        LinearEmbedder(np.eye(4, 2, dtype=np.float32)), platt_rule(), ServiceConfig(read_only=True)
    )
    with TestClient(vec) as c:
        r = c.post("/embed", files=[("files", ("v.npy", b"\x93NUMPY", "application/octet-stream"))])
        assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_modality"
        message = r.json()["error"]["message"]
        assert "is a file upload" in message and "vector: [numbers]" in message


class _ImageModel:
    """A 1x4x4 image model: the mean of each row (only its input shape matters here)."""

    kind = "image"
    fingerprint = "fake-image"
    embedding_dim = 4
    input_shape = (1, 4, 4)
    distance = "euclidean"
    larger_is_closer = False
    source = ""
    calibration = None
    prepare_image = None

    def embed(self, x):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.asarray(x, dtype=np.float32).mean(axis=3)[:, 0]


def test_a_text_model_takes_a_text_file_upload() -> None:
    from serving.service_fakes import TextEmbedder, platt_rule

    with TestClient(create_app(TextEmbedder(), platt_rule(), ServiceConfig(read_only=True))) as c:
        r = c.post("/embed", files=[("files", ("note.txt", b"abca\n", "text/plain"))])
        assert r.status_code == 200, r.text
        assert r.json()["embeddings"] == [[2.0, 1.0, 1.0, 0.0]]
        r = c.post(
            "/verify",
            files={"a": ("a.txt", b"ab", "text/plain"), "b": ("b.txt", b"ab", "text/plain")},
        )
        assert r.status_code == 200 and r.json()["distance"] == 0.0
        r = c.post("/embed", files=[("files", ("bad.txt", b"\xff\xfe\xfa", "text/plain"))])
        assert r.status_code == 422 and r.json()["error"]["code"] == "text_undecodable"
        assert "bad.txt" in r.json()["error"]["message"]


def test_items_show_no_server_paths_and_private_reads_need_the_key(
    gallery_dir: Path, tmp_path: Path
) -> None:
    import numpy as np

    np.save(tmp_path / "secret-folder.npy", np.eye(4, dtype=np.float32))
    with Gallery.open(gallery_dir, embedder=VectorEmbedder()) as g:
        g.enroll([str(tmp_path / "secret-folder.npy")], label="ann")
    with _service(gallery_dir) as client:
        item = client.get("/items/1").json()
        assert item["source"] == "secret-folder.npy[0]" and str(tmp_path) not in str(item)
    with _service(gallery_dir, require_key_for_reads=True, show_sources=True) as client:
        probe = {"input": {"vector": [1, 0, 0, 0]}, "k": 1}
        for r in (
            client.get("/items/1"),
            client.get("/similar/1"),
            client.post("/identify", json=probe),
        ):
            assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
        assert client.get("/items/1", headers={"X-API-Key": "x" * 20}).status_code == 403
        full = client.get("/items/1", headers=AUTH).json()
        assert full["source"] == f"{tmp_path / 'secret-folder.npy'}[0]"
        assert client.post("/identify", json=probe, headers=AUTH).status_code == 200
        assert client.get("/healthz").status_code == 200  # liveness stays open
    with pytest.raises(ValueError, match="--private-reads needs an API key"):
        ServiceConfig(read_only=True, require_key_for_reads=True).check()


def test_a_16_bit_upload_is_its_8_bit_twin() -> None:
    """The service scales a 16-bit PNG to [0, 1] as the readers do (it used to clip at 255)."""
    import io

    import numpy as np
    from PIL import Image

    from siamkit.serving.config import ServiceConfig
    from siamkit.serving.decode import InputDecoder, RawInput

    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    eight, sixteen = io.BytesIO(), io.BytesIO()
    Image.fromarray(pixels).save(eight, format="PNG")
    Image.fromarray(pixels.astype(np.uint16) * 257).save(sixteen, format="PNG")
    decoder = InputDecoder("image", (1, 8, 8), ServiceConfig(read_only=True))
    a = decoder.batch([RawInput("image", eight.getvalue(), "a")])
    b = decoder.batch([RawInput("image", sixteen.getvalue(), "b")])
    np.testing.assert_allclose(a, b, atol=1 / 255)


def test_a_decompression_bomb_and_too_many_files_are_413s() -> None:
    """A PNG declaring 20000x20000 pixels (a few hundred bytes) and 300 files in one request
    are too large (413), not undecodable (422) or a bare 400."""
    import struct
    import zlib

    from serving.service_fakes import platt_rule

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    side = 20_000
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    bomb += chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    app = create_app(_ImageModel(), platt_rule(), ServiceConfig(read_only=True, max_items=256))
    with TestClient(app) as c:
        r = c.post("/embed", files=[("files", ("bomb.png", bomb, "image/png"))])
        assert r.status_code == 413 and r.json()["error"]["code"] == "image_too_large"
        assert "bomb.png" in r.json()["error"]["message"]
        many = [("files", (f"{i}.png", b"x", "image/png")) for i in range(300)]
        r = c.post("/embed", files=many)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_many_items"
        assert c.get("/healthz").status_code == 200  # still serving


def test_a_reembed_by_the_cli_in_another_process_is_noticed(
    trained_run: Path, tmp_path: Path
) -> None:
    """A running service over a gallery that `siamkit gallery reembed` changes from another OS
    process refuses with 409 instead of answering with its old model."""
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    from siamkit.run import load_embedder
    from siamkit.training import train

    from conftest import tiny_config

    other = tmp_path / "other"
    train(tiny_config(other, seed=1, refit=False), progress=False)
    (tmp_path / "ann").mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "ann" / "0.png")
    Gallery.create(tmp_path / "g", trained_run).close()
    with Gallery.open(tmp_path / "g") as g:
        g.enroll([str(tmp_path / "ann" / "0.png")], label="ann")
    emb = load_embedder(trained_run)
    rule = emb.decision_rule()
    assert rule is not None
    app = create_app(
        emb, rule, ServiceConfig(read_only=True), Gallery.open(tmp_path / "g", embedder=emb)
    )
    upload = [("file", ("q.png", (tmp_path / "ann" / "0.png").read_bytes(), "image/png"))]
    with TestClient(app) as client:
        assert client.post("/identify", files=upload).json()["known"] is True
        done = subprocess.run(
            [sys.executable, "-m", "siamkit", "gallery", "reembed", str(tmp_path / "g"),
             "--model", str(other)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        r = client.post("/identify", files=upload)
        assert r.status_code == 409 and r.json()["error"]["code"] == "gallery_reembedded"
        assert client.get("/healthz").status_code == 200
