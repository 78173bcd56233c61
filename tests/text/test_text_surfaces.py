"""A text run behind the gallery's and the service's embedders, and the dedup model loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siamkit.data.inputs import load_inputs
from siamkit.models.embed import embed_all
from siamkit.run.text import load_text_embedder
from siamkit.training import TrainConfig, load_run, train


@pytest.fixture(scope="module")
def text_run(labelled_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "text"
    cfg = TrainConfig(
        data=f"text-labelled:{labelled_csv}",
        encoder="text_cnn",
        embedding_dim=16,
        widths=[16, 32],
        max_length=16,
        train_classes="food,music,sport,tech",
        eval_classes="travel,weather",
        epochs=1,
        batch_size=8,
        val_pairs=100,
        out=str(out),
    )
    train(cfg, progress=False)
    return out


TEXTS = ["grilled fish with lemon", "a flight to paris", "the server is down again today"]


def _reference(run_dir: Path) -> np.ndarray:
    run = load_run(run_dir)
    x, _ = load_inputs(TEXTS, run.spec)  # ids (N, max_length)
    return embed_all(run.model, x).numpy()


def test_text_embedder_matches_the_run(text_run: Path) -> None:
    emb = load_text_embedder(str(text_run))
    assert emb.kind == "text" and emb.embedding_dim == 16
    assert np.allclose(emb.embed(TEXTS), _reference(text_run), atol=1e-6)
    with pytest.raises(ValueError, match="list of texts"):
        emb.embed("one string")  # type: ignore[arg-type]


def test_gallery_and_service_embedders_take_texts(text_run: Path) -> None:
    from siamkit.run import load_embedder
    from siamkit.run.torch_embedder import RunEmbedder

    want = _reference(text_run)
    gallery_emb = RunEmbedder(text_run)
    assert np.allclose(gallery_emb.embed(TEXTS), want, atol=1e-6)
    service_emb = load_embedder(text_run)  # the service's, fed a JSON array of texts
    assert np.allclose(service_emb.embed(np.array(TEXTS, dtype=object)), want, atol=1e-6)
    with pytest.raises(ValueError, match="list of texts"):
        service_emb.embed("one string")
