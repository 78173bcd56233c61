"""RunEmbedder: the fingerprint of the saved weights, the run's own embeddings, an image gallery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from siamkit.data import load_data
from siamkit.evaluation import embed_all
from siamkit.index import Gallery, GalleryError, RunEmbedder
from siamkit.run import Embedder, fingerprint_weights
from siamkit.training import load_run


def test_fingerprint_and_embeddings_are_the_runs(trained_run: Path) -> None:
    emb = RunEmbedder(trained_run)
    assert isinstance(emb, Embedder)
    saved = load_file(str(trained_run / "best" / "model.safetensors"))
    assert emb.fingerprint == fingerprint_weights(saved)
    run = load_run(trained_run)
    x = load_data("digits").x[:10]
    np.testing.assert_allclose(emb.embed(x.numpy()), embed_all(run.model, x).numpy(), atol=1e-6)
    assert (emb.kind, emb.embedding_dim, emb.distance) == ("image", 16, run.spec.distance)
    assert emb.threshold == pytest.approx(run.metrics["threshold"])
    with pytest.raises(
        ValueError, match=r"do not fit this image model, which takes \(N, 1, 8, 8\)"
    ):
        emb.embed(np.zeros((2, 64), np.float32))


def test_image_gallery_from_a_run_identifies_its_own_items(
    trained_run: Path, tmp_path: Path
) -> None:
    data = load_data("digits").of_classes([5, 6, 7])
    x, y = data.x.numpy(), data.y.numpy()
    g = Gallery.create(tmp_path / "g", trained_run)
    for c in (5, 6, 7):
        g.enroll(x[y == c][:10], label=f"d{c}")
    # every enrolled item finds itself at distance 0 as its closest identity
    res = g.identify(x[y == 6][:10], k=2)
    assert all(r.candidates[0].label == "d6" and r.candidates[0].distance < 1e-3 for r in res)
    assert all(not r.unknown for r in res)
    with pytest.raises(GalleryError, match="does not exist"):
        g.enroll(["no/such.png"], label="x")
    assert len(g) == 30
    g.close()
