"""The store: id checksum against a plain loop, schema migrations, a newer schema refused."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.fakes import VectorEmbedder
from siamkit.index import SCHEMA_VERSION, Gallery, NotAGalleryError, SchemaTooNewError
from siamkit.index.store_records import ids_checksum
from siamkit.index.stores import open_store

M64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """splitmix64's finaliser, written out in plain integers (Steele et al., 2014)."""
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def test_id_checksum_is_the_wrapping_sum_of_splitmix64_hashes() -> None:
    ids = [1, 2, 3, 10**12, 2**40 + 7]
    assert ids_checksum(ids) == sum(_splitmix64(i) for i in ids) & M64
    assert ids_checksum(ids[::-1]) == ids_checksum(ids)
    assert ids_checksum([]) == 0
    assert ids_checksum([1, 2]) != ids_checksum([1, 3])


def test_state_counts_and_checksum_follow_writes(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", VectorEmbedder())
    ids = g.enroll_embeddings(np.eye(4, dtype=np.float32), ["a", "b", "c", "d"])
    g.remove([ids[1]])
    state = g.store.state()
    live = [ids[0], ids[2], ids[3]]
    assert (state.count, state.checksum, state.next_id) == (3, ids_checksum(live), 5)
    assert state.generation == 2  # one enrolment, one removal
    g.close()


def _db_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_version_1_store_is_migrated_with_its_items(tmp_path: Path) -> None:
    emb = VectorEmbedder()
    g = Gallery.create(tmp_path / "new", emb)
    meta = g.store.meta()
    g.close()
    # a gallery as the first schema wrote it
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "gallery.json").write_text((tmp_path / "new" / "gallery.json").read_text())
    store = open_store(f"sqlite:{tmp_path / 'old' / 'gallery.db'}")
    assert store.initialize(meta, version=1)
    conn = sqlite3.connect(tmp_path / "old" / "gallery.db")
    blob = np.array([1, 2, 3, 4], "<f4").tobytes()
    conn.execute(
        "INSERT INTO items VALUES (1, 'a', '{}', NULL, 'embedding', ?, ?, 't')",
        (blob, emb.fingerprint),
    )
    conn.execute("UPDATE state SET next_id = 2, count = 1, checksum = ?", (_signed(1),))
    conn.commit()
    conn.close()
    store.close()
    assert "removals" not in _tables(tmp_path / "old" / "gallery.db")
    g = Gallery.open(tmp_path / "old", embedder=emb)
    assert g.store.schema_version() == SCHEMA_VERSION == 2
    assert "removals" in _tables(tmp_path / "old" / "gallery.db")
    np.testing.assert_array_equal(g.get(1).embedding, [1, 2, 3, 4])
    assert g.similar(1) == [] and g.vector_index.count == 1
    g.remove(1)
    assert len(g) == 0
    g.close()


def _signed(i: int) -> int:
    c = ids_checksum([i])
    return c - (1 << 64) if c >= 1 << 63 else c


def _tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    return names


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", VectorEmbedder())
    g.enroll_embeddings(np.ones((2, 4), np.float32), "a")
    g.close()
    db = tmp_path / "g" / "gallery.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = 3")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _db_digest(db)
    with pytest.raises(
        SchemaTooNewError, match="schema version 3; this siamkit reads up to version 2"
    ):
        Gallery.open(tmp_path / "g")
    assert _db_digest(db) == before


def test_not_a_gallery(tmp_path: Path) -> None:
    with pytest.raises(NotAGalleryError, match="is not a gallery"):
        Gallery.open(tmp_path)
    (tmp_path / "gallery.json").write_text("{")
    with pytest.raises(NotAGalleryError, match="not a siamkit gallery file"):
        Gallery.open(tmp_path)


def test_create_refuses_a_non_empty_directory_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        Gallery.create(tmp_path / "g", VectorEmbedder())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]
    with pytest.raises(ValueError, match="cannot search with distance 'mahalanobis'"):
        Gallery.create(tmp_path / "h", VectorEmbedder(distance="mahalanobis"))
    assert not (tmp_path / "h").exists()
