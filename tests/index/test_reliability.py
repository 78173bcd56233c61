"""Reliability: concurrent enrolment on both stores, SIGKILL mid-enrolment, bad input writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.fakes import TextEmbedder, VectorEmbedder
from siamkit.index import Gallery, GalleryError, UnknownItemError, UnknownLabelError
from siamkit.index.store_records import ids_checksum

THREADS, PER_THREAD = 8, 200


def _store(request: pytest.FixtureRequest, kind: str) -> str | None:
    return request.getfixturevalue("pg_url") if kind == "postgresql" else None


def _check_consistent(g: Gallery) -> list[int]:
    """Store state, items and the FAISS index all agree; returns the live ids."""
    ids = [it.id for it in g.list(limit=10**9)]
    state = g.store.state()
    assert state.count == len(ids) and state.checksum == ids_checksum(ids)
    index = g.vector_index
    live = index.ids[~np.isin(np.arange(len(index.ids)), list(index._dead))]
    assert sorted(live.tolist()) == ids
    assert index.count == len(ids) and index.faiss.ntotal == len(index.ids)
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
@pytest.mark.parametrize("handles", ["shared", "one-per-thread"])
def test_concurrent_enrolls_keep_every_item_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path, store: str, handles: str
) -> None:
    emb = VectorEmbedder(dim=4, threshold=0.1)
    Gallery.create(tmp_path / "g", emb, store=_store(request, store)).close()
    shared = Gallery.open(tmp_path / "g", embedder=emb)
    errors: list[BaseException] = []
    returned: list[list[int]] = [[] for _ in range(THREADS)]

    def work(t: int) -> None:
        g = shared if handles == "shared" else Gallery.open(tmp_path / "g", embedder=emb)
        try:
            for i in range(PER_THREAD):
                vec = np.array([[t, i, t * 1000 + i, 1]], np.float32)
                returned[t] += g.enroll_embeddings(vec, f"t{t}", metadata={"t": t, "i": i})
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            if g is not shared:
                g.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    ids = _check_consistent(shared)
    assert len(ids) == THREADS * PER_THREAD
    assert sorted(i for r in returned for i in r) == ids  # every id handed out once
    seen = [(it.metadata["t"], it.metadata["i"]) for it in shared.list(limit=10**9)]
    assert sorted(seen) == [(t, i) for t in range(THREADS) for i in range(PER_THREAD)]
    # each item is found where it was put
    for t, i in [(0, 0), (3, 77), (7, 199)]:
        q = np.array([[t, i, t * 1000 + i, 1]], np.float32)
        (r,) = shared.identify_embeddings(q, k=1)
        assert r.label == f"t{t}" and r.candidates[0].distance == pytest.approx(0, abs=1e-3)
    shared.close()


CHILD = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from index.fakes import VectorEmbedder
from siamkit.index import Gallery
g = Gallery.open(sys.argv[1], embedder=VectorEmbedder(dim=8))
rng = np.random.default_rng(0)
g.enroll_embeddings(rng.normal(size=(500_000, 8)).astype(np.float32), "bulk")
"""


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_large_enroll_leaves_a_consistent_gallery(
    tmp_path: Path,
) -> None:
    emb = VectorEmbedder(dim=8)
    g = Gallery.create(tmp_path / "g", emb)
    g.enroll_embeddings(np.ones((3, 8), np.float32), "before")
    g.close()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "g"), str(Path(__file__).parent.parent)],
        stderr=subprocess.PIPE,
    )
    watcher = Gallery.open(tmp_path / "g", embedder=emb)
    deadline = time.monotonic() + 120
    while watcher.store.state().count <= 3 and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        time.sleep(0.05)
    time.sleep(0.3)  # well into the next transaction
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    watcher.close()
    g = Gallery.open(tmp_path / "g", embedder=emb)
    ids = _check_consistent(g)
    n_bulk = len(ids) - 3
    assert 0 < n_bulk < 500_000
    assert n_bulk % 50_000 == 0  # whole transactions only: no partial batch, no partial item
    items = g.store.get(ids[-5:])
    assert all(it.embedding is not None and it.embedding.shape == (8,) for it in items)
    g.close()


def test_bad_input_gets_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", VectorEmbedder(dim=4))
    g.enroll_embeddings(np.eye(4, dtype=np.float32), ["a", "a", "b", "b"])
    before = g.store.state()
    (tmp_path / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "face.png").write_bytes(b"\x89PNG")
    np.save(tmp_path / "ok.npy", np.ones(4, np.float32))
    (tmp_path / "loose").mkdir()
    np.save(tmp_path / "loose" / "x.npy", np.ones(4, np.float32))
    (tmp_path / "nolabel.csv").write_text("f0,f1,f2,f3\n1,2,3,4\n")
    (tmp_path / "wide.csv").write_text("f0,f1,f2,f3,f4,label\n1,2,3,4,5,a\n")
    cases = [
        (
            lambda: g.enroll([str(tmp_path / "ok.npy"), str(tmp_path / "broken.npy")], label="c"),
            "not a readable numeric .npy",
        ),
        (lambda: g.enroll([str(tmp_path / "face.png")], label="c"), "vector gallery"),
        (lambda: g.enroll([str(tmp_path / "missing.npy")], label="c"), "does not exist"),
        (lambda: g.enroll([str(tmp_path / "ok.npy")]), "has no identity: pass --label"),
        (lambda: g.enroll([str(tmp_path / "loose")]), "not one subfolder per identity"),
        (lambda: g.enroll([str(tmp_path / "nolabel.csv")]), "no 'label' column"),
        (
            lambda: g.enroll([str(tmp_path / "wide.csv")]),
            "has 5 features per item; the model takes 4",
        ),
        (lambda: g.enroll([str(tmp_path / "ok.npy")], label="  "), "non-empty string"),
        (lambda: g.enroll(np.zeros((1, 3), np.float32), label="c"), r"do not fit \(N, 4\)"),
        (lambda: g.remove([1, 99]), "no item with id 99"),
        (lambda: g.similar(99), "no item with id 99"),
        (lambda: g.remove_label("zed"), "no identity 'zed'"),
        (lambda: g.verify_embeddings(np.ones((1, 4)), "zed"), "no identity 'zed'"),
    ]
    for call, message in cases:
        with pytest.raises(GalleryError, match=message):
            call()
        assert g.store.state() == before, message
    with pytest.raises(UnknownItemError):
        g.get(99)
    with pytest.raises(UnknownLabelError):
        g.remove_label("zed")
    assert len(g) == 4 and g.get(1).embedding is not None
    g.close()
    t = Gallery.create(tmp_path / "t", TextEmbedder())
    with pytest.raises(GalleryError, match="cannot enroll an empty text"):
        t.enroll(["fine", ""], label="x")
    with pytest.raises(GalleryError, match="embeds texts, not arrays"):
        t.enroll(np.zeros((1, 4), np.float32), label="x")  # wrong modality
    assert len(t) == 0
    t.close()


def test_an_empty_text_is_never_read_as_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path("") is ".", a folder: with one subfolder of texts there, "" used to enroll it
    (tmp_path / "cwd" / "ann").mkdir(parents=True)
    (tmp_path / "cwd" / "ann" / "note.txt").write_text("abc")
    monkeypatch.chdir(tmp_path / "cwd")
    t = Gallery.create(tmp_path / "t", TextEmbedder())
    for empty in ("", "   "):
        with pytest.raises(GalleryError, match="cannot enroll an empty text"):
            t.enroll([empty])
        with pytest.raises(GalleryError, match="cannot enroll an empty text"):
            t.enroll(["fine", empty], label="x")
    assert len(t) == 0
    t.close()
