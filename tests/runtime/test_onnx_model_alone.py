"""An exported ONNX file stands alone: a gallery over it enrolls files, and it is served
without its run directory (the threshold it carries decides)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.export import export_run
from siamkit.index import Gallery
from siamkit.run import load_embedder
from siamkit.runtime import OnnxEncoder
from siamkit.training import train

from conftest import tiny_config

pytest.importorskip("faiss")


@pytest.fixture(scope="module")
def onnx_path(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("alone") / "digits.onnx"
    export_run(trained_run, out)
    return out


def _digits(folder: Path, n: int = 4) -> list[Path]:
    from sklearn.datasets import load_digits

    d = load_digits()
    files = []
    for label in (5, 6):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        for i in np.flatnonzero(d.target == label)[:n]:
            f = folder / str(label) / f"{i}.png"
            Image.fromarray((d.images[i] * 255 / 16).astype(np.uint8)).save(f)
            files.append(f)
    return files


def test_load_embedder_picks_the_onnx_kind(onnx_path: Path) -> None:
    emb = load_embedder(onnx_path)
    assert isinstance(emb, OnnxEncoder)
    rule = emb.decision_rule()
    assert rule is not None and rule.threshold == emb.threshold and rule.source == "export"


def test_an_onnx_gallery_enrolls_files(onnx_path: Path, tmp_path: Path) -> None:
    files = sorted(_digits(tmp_path / "faces"))  # enrolled folder by folder, sorted
    enc = OnnxEncoder(onnx_path)
    expected = enc.embed_files(files)  # the runtime's own reading, the reference
    _, names = enc.load([str(tmp_path / "faces")])
    assert names == [str(f) for f in files]
    with Gallery.create(tmp_path / "g", onnx_path) as g:
        ids = g.enroll([str(tmp_path / "faces" / "5")], label="five")
        ids += g.enroll([str(tmp_path / "faces" / "6")], label="six")
        assert len(ids) == len(files) and len(g) == len(files)
        stored = np.stack([g.get(i).embedding for i in ids])
        np.testing.assert_allclose(stored, expected, atol=1e-6)
        (hit,) = g.identify([str(files[0])])
        assert hit.label == "five" and hit.candidates[0].distance == pytest.approx(0.0, abs=1e-5)
    with Gallery.open(tmp_path / "g") as g:  # reopened from the stored .onnx path alone
        assert g.embedder.fingerprint == enc.fingerprint


def test_serve_onnx_needs_no_run_directory(onnx_path: Path, tmp_path: Path) -> None:
    serving = pytest.importorskip("siamkit.serving")
    testclient = pytest.importorskip("fastapi.testclient")
    alone = tmp_path / "elsewhere" / "m.onnx"
    alone.parent.mkdir()
    shutil.copy(onnx_path, alone)
    files = _digits(tmp_path / "img", n=1)
    enc = OnnxEncoder(alone)
    e = enc.embed_files(files)
    d = float(enc.pair_distances(e[:1], e[1:])[0])
    app = serving.load_service(None, onnx=alone, config=serving.ServiceConfig(read_only=True))
    with testclient.TestClient(app) as client:
        up = [("a", ("a.png", files[0].read_bytes(), "image/png"))]
        up += [("b", ("b.png", files[1].read_bytes(), "image/png"))]
        r = client.post("/verify", files=up)
        health = client.get("/healthz").json()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["distance"] == pytest.approx(d, abs=1e-5)
    assert body["threshold"] == pytest.approx(enc.threshold)
    assert body["same"] == (d <= enc.threshold) and body["probability"] is None
    assert health["calibrated"] is False and health["fingerprint"] == enc.fingerprint


def test_serve_refuses_an_onnx_file_of_another_run(onnx_path: Path, tmp_path: Path) -> None:
    serving = pytest.importorskip("siamkit.serving")
    other = tmp_path / "other"
    train(tiny_config(other, seed=1), progress=False)
    with pytest.raises(ValueError, match="was not exported from"):
        serving.load_service(other, onnx=onnx_path, config=serving.ServiceConfig(read_only=True))


def test_the_cli_builds_and_queries_a_gallery_over_an_onnx_file(
    onnx_path: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from siamkit.cli.main import app

    files = sorted(_digits(tmp_path / "people", n=3))
    runner = CliRunner()
    g = str(tmp_path / "g")
    r = runner.invoke(app, ["gallery", "create", g, "--model", str(onnx_path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["gallery", "enroll", g, str(tmp_path / "people")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["gallery", "identify", g, str(files[-1]), "--json"])
    assert r.exit_code == 0, r.output
    (hit,) = json.loads(r.stdout)
    assert hit["label"] == "6"  # the folder it was enrolled from, at distance 0
    r = runner.invoke(app, ["serve"])
    assert r.exit_code == 2 and "nothing to serve" in r.output
