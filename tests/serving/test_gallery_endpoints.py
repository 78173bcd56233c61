"""/enroll, /identify, /items/{id}, /similar/{id} over a real gallery, against a brute-force
numpy reference (closest item per identity, plain loops)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from serving.service_fakes import KEY, LinearEmbedder, b64, png_bytes
from siamkit.data import load_data
from siamkit.evaluation import embed_all
from siamkit.index import Gallery
from siamkit.serving import ServiceConfig, load_service
from siamkit.training import load_run

AUTH = {"X-API-Key": KEY}


def _png(i: int) -> bytes:
    x = load_data("digits").x[i, 0].numpy()
    return png_bytes((x * 255).round().astype(np.uint8))


def _reference(run_dir: Path, idx: list[int]) -> np.ndarray:
    """Embeddings of digits ``idx`` decoded from PNG bytes the way the service does (8-bit)."""
    x = load_data("digits").x[idx]
    x = torch.from_numpy((x.numpy() * 255).round() / 255.0).float()
    return embed_all(load_run(run_dir).model, x).numpy()


@pytest.fixture()
def gallery_client(calibrated_run: Path, tmp_path: Path) -> Iterator[TestClient]:
    Gallery.create(tmp_path / "gallery", calibrated_run).close()
    app = load_service(calibrated_run, tmp_path / "gallery", config=ServiceConfig(api_key=KEY))
    with TestClient(app) as client:
        yield client


def _enroll_digits(client: TestClient, idx: list[int]) -> list[int]:
    y = load_data("digits").y
    items = [
        {
            "input": {"image_base64": b64(_png(i))},
            "label": f"digit{int(y[i])}",
            "metadata": {"i": i},
        }
        for i in idx
    ]
    r = client.post("/enroll", json={"items": items}, headers=AUTH)
    assert r.status_code == 200, r.text
    ids: list[int] = r.json()["ids"]
    return ids


def test_identify_ranks_identities_like_a_brute_force_loop(
    gallery_client: TestClient, calibrated_run: Path
) -> None:
    y = load_data("digits").y
    enrolled = [i for c in range(5) for i in (y == c).nonzero().flatten()[:4].tolist()]
    ids = _enroll_digits(gallery_client, enrolled)
    assert len(ids) == 20 and len(set(ids)) == 20
    assert gallery_client.get("/healthz").json()["gallery_items"] == 20
    probe = int((y == 3).nonzero().flatten()[10])
    g = _reference(calibrated_run, enrolled)
    (q,) = _reference(calibrated_run, [probe])
    best: dict[str, tuple[float, int]] = {}
    for item_id, i, e in zip(ids, enrolled, g):
        d = float(np.sqrt(((q - e) ** 2).sum()))
        label = f"digit{int(y[i])}"
        if label not in best or d < best[label][0]:
            best[label] = (d, item_id)
    ranked = sorted(best.items(), key=lambda kv: kv[1][0])[:3]
    r = gallery_client.post(
        "/identify", files={"file": ("p.png", _png(probe), "image/png")}, data={"k": "3"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [m["label"] for m in body["matches"]] == [lab for lab, _ in ranked]
    assert [m["id"] for m in body["matches"]] == [item for _, (_, item) in ranked]
    np.testing.assert_allclose(
        [m["distance"] for m in body["matches"]], [d for _, (d, _) in ranked], atol=1e-4
    )
    threshold = gallery_client.app.state.service.gallery.threshold  # type: ignore[attr-defined]
    assert body["known"] == (ranked[0][1][0] <= threshold)
    assert body["label"] == (ranked[0][0] if body["known"] else None)
    assert all(0.0 <= m["probability"] <= 1.0 for m in body["matches"])
    same = gallery_client.post(
        "/identify", json={"input": {"image_base64": b64(_png(enrolled[0]))}, "k": 1}
    ).json()
    assert same["matches"][0]["id"] == ids[0]
    assert same["matches"][0]["distance"] == pytest.approx(0.0, abs=1e-4)
    assert same["known"] is True and same["label"] == "digit0"


def test_items_similar_and_delete(gallery_client: TestClient, calibrated_run: Path) -> None:
    enrolled = list(range(12))
    ids = _enroll_digits(gallery_client, enrolled)
    y = load_data("digits").y
    item = gallery_client.get(f"/items/{ids[2]}").json()
    assert item["label"] == f"digit{int(y[2])}" and item["metadata"] == {"i": 2}
    assert item["id"] == ids[2] and item["created_at"]
    g = _reference(calibrated_run, enrolled)
    d = np.sqrt(((g - g[2]) ** 2).sum(axis=1))
    order = [j for j in np.argsort(d, kind="stable") if j != 2][:4]
    r = gallery_client.get(f"/similar/{ids[2]}", params={"k": 4})
    assert r.status_code == 200, r.text
    sim = r.json()
    assert sim["id"] == ids[2]
    np.testing.assert_allclose([m["distance"] for m in sim["matches"]], d[order], atol=1e-4)
    assert {m["id"] for m in sim["matches"]} == {ids[j] for j in order}
    r = gallery_client.delete(f"/items/{ids[2]}", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"deleted": ids[2]}
    gone = gallery_client.get(f"/items/{ids[2]}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_item"
    assert gallery_client.delete(f"/items/{ids[2]}", headers=AUTH).status_code == 404
    assert gallery_client.get(f"/similar/{ids[2]}").status_code == 404
    after = gallery_client.get(f"/similar/{ids[0]}", params={"k": 20}).json()["matches"]
    assert ids[2] not in {m["id"] for m in after} and len(after) == 10
    assert gallery_client.get("/healthz").json()["gallery_items"] == 11


def test_multipart_enroll_and_its_failures_write_nothing(gallery_client: TestClient) -> None:
    files = [("files", (f"{i}.png", _png(i), "image/png")) for i in range(3)]
    r = gallery_client.post(
        "/enroll", files=files, data={"label": "ada", "metadata": '{"by": "test"}'}, headers=AUTH
    )
    assert r.status_code == 200, r.text
    ids = r.json()["ids"]
    assert [gallery_client.get(f"/items/{i}").json()["label"] for i in ids] == ["ada"] * 3
    bad = [*files, ("files", ("x.png", b"not an image", "image/png"))]
    r = gallery_client.post("/enroll", files=bad, data={"label": "bob"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]["code"] == "image_undecodable"
    assert "x.png" in r.json()["error"]["message"]
    r = gallery_client.post(
        "/enroll", files=files, data={"label": "bob", "metadata": "[1]"}, headers=AUTH
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_metadata"
    r = gallery_client.post("/enroll", files=files, data={"label": " "}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_label"
    items = [
        {"input": {"image_base64": b64(_png(0))}, "label": "carl"},
        {"input": {"text": "hi"}, "label": "carl"},
    ]
    r = gallery_client.post("/enroll", json={"items": items}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]["code"] == "wrong_modality"
    assert "items[1].input" in r.json()["error"]["message"]
    assert gallery_client.get("/healthz").json()["gallery_items"] == 3  # nothing half-written


def test_bad_ids_and_k(gallery_client: TestClient) -> None:
    assert gallery_client.get("/items/999").status_code == 404
    r = gallery_client.get("/items/abc")
    assert r.status_code == 422 and "item_id" in r.json()["error"]["message"]
    r = gallery_client.get("/similar/1", params={"k": 0})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_k"
    r = gallery_client.post("/identify", json={"input": {"image_base64": b64(_png(0))}, "k": 0})
    assert r.status_code == 422
    empty = gallery_client.post("/identify", json={"input": {"image_base64": b64(_png(0))}})
    assert empty.status_code == 200 and empty.json() == {
        "label": None,
        "known": False,
        "matches": [],
    }


def test_a_gallery_of_another_model_is_refused(calibrated_run: Path, tmp_path: Path) -> None:
    other = LinearEmbedder(np.eye(64, 16, dtype=np.float32))
    other.threshold = 1.0  # type: ignore[attr-defined]
    Gallery.create(tmp_path / "g", other).close()
    with pytest.raises(ValueError, match="fake-linear"):
        load_service(calibrated_run, tmp_path / "g", config=ServiceConfig(api_key=KEY))


def test_concurrent_identify_queries_share_gallery_searches_with_the_same_answers(
    calibrated_run: Path, tmp_path: Path
) -> None:
    import asyncio

    import httpx

    Gallery.create(tmp_path / "g", calibrated_run).close()
    config = ServiceConfig(api_key=KEY, max_wait_ms=50)
    app = load_service(calibrated_run, tmp_path / "g", config=config)
    gallery = app.state.service.gallery
    with TestClient(app) as client:
        _enroll_digits(client, list(range(40)))
        probes = [{"input": {"image_base64": b64(_png(100 + i))}, "k": 3} for i in range(12)]
        sequential = [client.post("/identify", json=p).json() for p in probes]
    searches: list[int] = []
    original = gallery.identify_embeddings

    def counting(q: np.ndarray, k: int = 5) -> list:
        searches.append(len(q))
        return original(q, k)

    gallery.identify_embeddings = counting

    async def together() -> list[dict]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                rs = await asyncio.gather(*(c.post("/identify", json=p) for p in probes))
        return [r.json() for r in rs]

    concurrent = asyncio.run(together())
    assert sum(searches) == 12 and len(searches) < 12  # some queries were searched together
    for a, b in zip(concurrent, sequential):
        assert a["label"] == b["label"] and a["known"] == b["known"]
        assert [m["id"] for m in a["matches"]] == [m["id"] for m in b["matches"]]
        np.testing.assert_allclose(
            [m["distance"] for m in a["matches"]], [m["distance"] for m in b["matches"]], atol=1e-5
        )
