"""The face encoder through siamkit's surfaces: `siamkit verify`, `faces init`, the gallery,
the service and LFW's protocol on a tiny folder in LFW's layout."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from apps_faces.conftest import NEEDS_FACES

pytest.importorskip("dlib", reason=NEEDS_FACES)

from siamkit.apps.faces import models as face_models
from siamkit.apps.faces.embedder import FaceEmbedder
from siamkit.apps.faces.lfw import image_path, k_fold_accuracy, read_pairs
from siamkit.apps.faces.views import build_face_views
from siamkit.cli.main import app
from siamkit.index import Gallery
from siamkit.index.errors import GalleryError

runner = CliRunner()
KEY = "faces-test-key-0123456789"


def _distance(a: Path, b: Path) -> float:
    emb = FaceEmbedder()
    x = emb.embed_files([a, b])
    return float(np.linalg.norm(x[0] - x[1]))


def test_siamkit_verify_takes_a_face_folder(face_photos: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "faces"
    r = runner.invoke(app, ["faces", "init", str(run)])
    assert r.exit_code == 0, r.output
    a, b = face_photos["astronaut"], face_photos["astronaut_aug"]
    r = runner.invoke(app, ["verify", str(run), str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    expected = _distance(a, b)
    assert got["distance"] == pytest.approx(expected, rel=1e-5)
    assert got["same"] == (expected <= 0.6) and got["metric"] == "euclidean"
    r = runner.invoke(app, ["verify", str(run), str(a), str(face_photos["no_face"])])
    assert r.exit_code == 2
    assert "no face found in" in r.output and "coffee.png" in r.output


def test_faces_init_without_the_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siamkit.apps.faces.run import write_face_run

    write_face_run(tmp_path / "made-before")
    face_models.load_face_models.cache_clear()
    monkeypatch.setitem(sys.modules, "dlib", None)
    try:
        r = runner.invoke(app, ["faces", "init", str(tmp_path / "faces")])
        g = runner.invoke(
            app,
            ["gallery", "create", str(tmp_path / "g"), "--model", str(tmp_path / "made-before")],
        )
    finally:
        face_models.load_face_models.cache_clear()
    assert r.exit_code == 2 and g.exit_code == 2
    assert "pip install 'siamkit[faces]'" in r.output
    assert "pip install 'siamkit[faces]'" in g.output
    assert not (tmp_path / "faces").exists()


def test_gallery_enrolls_identifies_and_verifies_faces(
    face_photos: dict[str, Path], face_run: Path, tmp_path: Path
) -> None:
    people = tmp_path / "people"
    for person, key in [("astronaut", "astronaut"), ("other", "other")]:
        (people / person).mkdir(parents=True)
        shutil.copy(face_photos[key], people / person)
    probe = str(face_photos["astronaut_aug"])
    with Gallery.create(tmp_path / "g", face_run) as g:
        assert (g.embedding_dim, g.distance, g.threshold) == (128, "euclidean", 0.6)
        assert len(g.enroll([str(people)])) == 2
        with pytest.raises(GalleryError, match=r"no face found in .*coffee\.png"):
            g.enroll([str(face_photos["no_face"])], label="cup")
        assert len(g) == 2
    with Gallery.open(tmp_path / "g") as g:  # the model comes back from the face folder
        (result,) = g.identify([probe], k=2)
        assert [c.label for c in result.candidates] == ["astronaut", "other"]
        d_same = _distance(face_photos["astronaut"], face_photos["astronaut_aug"])
        assert result.candidates[0].distance == pytest.approx(d_same, rel=1e-4)
        (v,) = g.verify([probe], "other")
        assert v.same is False


@pytest.fixture()
def face_client(face_photos: dict[str, Path], face_run: Path, tmp_path: Path) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from siamkit.serving import ServiceConfig, load_service

    with Gallery.create(tmp_path / "g", face_run) as g:
        g.enroll([str(face_photos["astronaut"])], label="astronaut")
        g.enroll([str(face_photos["other"])], label="other")
    service = load_service(face_run, tmp_path / "g", config=ServiceConfig(api_key=KEY))
    with TestClient(service) as client:
        yield client


def test_service_verifies_identifies_and_refuses_a_photo_without_a_face(
    face_client: object, face_photos: dict[str, Path]
) -> None:
    client = face_client
    a, b = face_photos["astronaut"], face_photos["astronaut_aug"]
    health = client.get("/healthz").json()  # type: ignore[attr-defined]
    assert (health["kind"], health["embedding_dim"], health["gallery_items"]) == ("image", 128, 2)
    r = client.post(  # type: ignore[attr-defined]
        "/verify",
        files={"a": ("a.jpg", a.read_bytes(), "image/jpeg"), "b": ("b.jpg", b.read_bytes())},
    )
    assert r.status_code == 200, r.text
    assert r.json()["distance"] == pytest.approx(_distance(a, b), rel=1e-4)
    r = client.post(  # type: ignore[attr-defined]
        "/identify", files={"file": ("q.jpg", b.read_bytes(), "image/jpeg")}, data={"k": "1"}
    )
    assert r.status_code == 200, r.text
    assert "astronaut" in r.text
    r = client.post(  # type: ignore[attr-defined]
        "/embed", files={"files": ("coffee.png", face_photos["no_face"].read_bytes())}
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "image_rejected"
    assert "no face found" in error["message"] and "coffee.png" in error["message"]


def test_lfw_protocol_on_a_tiny_folder_matches_pair_by_pair(tmp_path: Path) -> None:
    """10-fold figures of evaluate_lfw against embedding each pair's files in a plain loop."""
    from siamkit.apps.faces.lfw import evaluate_lfw

    built = build_face_views(tmp_path, people=4, images_per_person=2, folds=2)
    emb = FaceEmbedder()
    result = evaluate_lfw(emb, built.lfw_dir, built.pairs_file)
    protocol = read_pairs(built.pairs_file)
    cache: dict[Path, np.ndarray] = {}
    expected = []
    for p in protocol.pairs:
        a = image_path(built.lfw_dir, p.name_a, p.number_a)
        b = image_path(built.lfw_dir, p.name_b, p.number_b)
        for f in (a, b):
            if f not in cache:
                cache[f] = emb.embed_files([f])[0]
        expected.append(float(np.linalg.norm(cache[a] - cache[b])))
    np.testing.assert_allclose(result.distances, expected, rtol=1e-5)
    assert result.images == 8
    ref = k_fold_accuracy(np.array(expected), protocol.same, protocol.fold_ids)
    assert result.accuracy.per_fold == pytest.approx(ref.per_fold)
    r = runner.invoke(
        app, ["faces", "lfw", str(_face_dir(tmp_path)), str(built.lfw_dir), str(built.pairs_file)]
    )
    assert r.exit_code == 0, r.output
    assert f"2-fold accuracy {ref.mean:.4f}" in r.stdout
    shutil.rmtree(built.lfw_dir / "Skimage_Astronaut")
    with pytest.raises(ValueError, match=r"not in .*Skimage_Astronaut_0001\.jpg"):
        evaluate_lfw(emb, built.lfw_dir, built.pairs_file)


def _face_dir(tmp_path: Path) -> Path:
    from siamkit.apps.faces.run import write_face_run

    write_face_run(tmp_path / "faces")
    return tmp_path / "faces"
