"""The PostgreSQL store: the same API, replicas sharing one gallery, the CLI's --store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import pytest
from typer.testing import CliRunner

from index.fakes import VectorEmbedder
from siamkit.cli.main import app
from siamkit.index import Gallery, ModelMismatchError, SchemaTooNewError
from siamkit.index.postgres_store import redact


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:secret@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_replicas_share_one_gallery_and_keep_their_indexes_in_step(
    tmp_path: Path, pg_url: str
) -> None:
    emb = VectorEmbedder(dim=2, threshold=0.5)
    a = Gallery.create(tmp_path / "replica-a", emb, store=pg_url)
    b = Gallery.create(tmp_path / "replica-b", emb, store=pg_url)  # joins: same model
    ids = a.enroll_embeddings([[0, 0], [5, 5], [9, 0]], ["ann", "bob", "cy"])
    (r,) = b.identify_embeddings(np.array([[5, 5.2]], np.float32), k=2)
    assert r.label == "bob" and r.candidates[0].item_id == ids[1]
    assert r.candidates[0].distance == pytest.approx(0.2, abs=1e-5)
    b.remove(ids[1])
    (r,) = a.identify_embeddings(np.array([[5, 5.2]], np.float32), k=1)
    assert r.unknown and r.candidates[0].label != "bob"
    assert [n.item_id for n in a.similar(ids[0], k=5)] == [ids[2]]
    assert a.stats().store == pg_url and a.stats().items == 2
    a.close()
    b.close()
    # reopened from its directory, a replica's saved index is brought up to date
    c = Gallery.create(tmp_path / "replica-c", emb, store=pg_url)
    c.enroll_embeddings([[1, 1]], "dee")
    c.close()
    a = Gallery.open(tmp_path / "replica-a", embedder=emb)
    index = a.vector_index
    live = [int(i) for p, i in enumerate(index.ids) if p not in index._dead]
    assert sorted(live) == [ids[0], ids[2], ids[2] + 1] and index.count == 3
    assert a.identify_embeddings(np.array([[1, 1]], np.float32))[0].label == "dee"
    a.close()


def test_another_model_cannot_join_and_a_newer_schema_is_refused(
    tmp_path: Path, pg_url: str
) -> None:
    Gallery.create(tmp_path / "a", VectorEmbedder(), store=pg_url).close()
    with pytest.raises(ModelMismatchError, match="already holds a gallery of model"):
        Gallery.create(tmp_path / "b", VectorEmbedder(seed=3), store=pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 9")
    with pytest.raises(SchemaTooNewError, match="schema version 9"):
        Gallery.open(tmp_path / "a")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (9,)


def test_cli_with_a_postgresql_store(trained_run: Path, tmp_path: Path, pg_url: str) -> None:
    runner = CliRunner()
    vectors = tmp_path / "v.npy"
    from siamkit.data import load_data

    x = load_data("digits").x[:4].numpy()
    np.save(vectors, x[:1].reshape(1, 1, 8, 8))
    r = runner.invoke(
        app,
        ["gallery", "create", str(tmp_path / "g"), "--model", str(trained_run), "--store", pg_url],
    )
    assert r.exit_code == 0, r.output
    assert "postgresql://" in r.output
    bad = runner.invoke(
        app,
        [
            "gallery",
            "create",
            str(tmp_path / "h"),
            "--model",
            str(trained_run),
            "--store",
            "mysql://x",
        ],
    )
    assert bad.exit_code == 2 and "unknown store 'mysql://x'" in bad.output
    r = runner.invoke(app, ["gallery", "stats", str(tmp_path / "g"), "--json"])
    assert r.exit_code == 0 and '"items": 0' in r.stdout
