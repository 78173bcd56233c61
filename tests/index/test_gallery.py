"""Gallery queries against plain loops and hand-worked 2-D points; the index follows the store."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index.fakes import TextEmbedder, VectorEmbedder
from siamkit.index import (
    Gallery,
    GalleryError,
    IndexConfig,
    ModelMismatchError,
    UnknownItemError,
    UnknownLabelError,
)


def _dist(name: str, a: np.ndarray, b: np.ndarray) -> float:
    """Plain-Python reference distances."""
    a, b = [float(v) for v in a], [float(v) for v in b]
    if name == "euclidean":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    if name == "squared_euclidean":
        return sum((x - y) ** 2 for x, y in zip(a, b))
    if name == "manhattan":
        return sum(abs(x - y) for x, y in zip(a, b))
    dot = sum(x * y for x, y in zip(a, b))
    return 1.0 - dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _clustered(n_labels: int, per: int, dim: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_labels, dim)) * 3
    x = np.concatenate([c + rng.normal(size=(per, dim)) * 0.5 for c in centres])
    labels = [f"id{i}" for i in range(n_labels) for _ in range(per)]
    return x.astype(np.float32), labels


def test_hand_worked_2d_identify_and_verify(tmp_path: Path) -> None:
    emb = VectorEmbedder(dim=2, threshold=1.5)
    g = Gallery.create(tmp_path / "g", emb)
    ids = g.enroll_embeddings([[0, 0], [2, 0], [3, 4]], ["a", "a", "b"])
    assert ids == [1, 2, 3]
    (near_a,) = g.identify(np.array([[0, 1]], np.float32), k=2)
    # a: closest item (0,0) at 1; b: (3,4) at sqrt(9 + 9)
    assert near_a.label == "a" and not near_a.unknown
    assert [c.label for c in near_a.candidates] == ["a", "b"]
    assert near_a.candidates[0].distance == pytest.approx(1.0)
    assert near_a.candidates[0].item_id == 1
    assert near_a.candidates[1].distance == pytest.approx(math.sqrt(18))
    assert near_a.candidates[1].accepted is False
    (far,) = g.identify(np.array([[10, 10]], np.float32))
    assert far.unknown and far.label is None  # closest is (3,4) at sqrt(49 + 36) > 1.5
    # verify (1,0) and (3,0) against a = {(0,0), (2,0)}: max = closest item, mean = mean
    v = g.verify(np.array([[1, 0], [3, 0]], np.float32), "a", policy="max")
    assert [r.distance for r in v] == pytest.approx([1.0, 1.0])
    assert [r.same for r in v] == [True, True]
    v = g.verify(np.array([[1, 0], [3, 0]], np.float32), "a", policy="mean")
    assert [r.distance for r in v] == pytest.approx([1.0, 2.0])
    assert [r.same for r in v] == [True, False]
    assert v[0].items == 2
    g.close()


@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine", "manhattan"])
def test_identify_and_similar_match_a_plain_loop(tmp_path: Path, distance: str) -> None:
    x, labels = _clustered(6, 5, 4, seed=1)
    g = Gallery.create(tmp_path / "g", VectorEmbedder(dim=4, distance=distance, threshold=0.8))
    ids = g.enroll_embeddings(x, labels)
    queries = _clustered(6, 2, 4, seed=2)[0]
    results = g.identify_embeddings(queries, k=3)
    for q, res in zip(queries, results):
        best: dict[str, tuple[float, int]] = {}
        for i, (item, lab) in enumerate(zip(x, labels)):
            d = _dist(distance, q, item)
            if lab not in best or d < best[lab][0]:
                best[lab] = (d, ids[i])
        ranked = sorted(best.items(), key=lambda kv: kv[1][0])[:3]
        assert [c.label for c in res.candidates] == [lab for lab, _ in ranked]
        assert [c.distance for c in res.candidates] == pytest.approx(
            [d for _, (d, _) in ranked], rel=1e-4, abs=1e-4
        )
        assert [c.item_id for c in res.candidates] == [i for _, (_, i) in ranked]
        assert res.unknown == (ranked[0][1][0] > 0.8)
    # similar: the nearest other items by the same loop
    target = ids[7]
    expected = sorted(
        (_dist(distance, x[7], x[i]), ids[i]) for i in range(len(ids)) if ids[i] != target
    )[:4]
    got = g.similar(target, k=4)
    assert [n.item_id for n in got] == [i for _, i in expected]
    assert [n.distance for n in got] == pytest.approx([d for d, _ in expected], rel=1e-4, abs=1e-4)
    g.close()


def test_hnsw_agrees_with_exact_on_a_small_gallery(tmp_path: Path) -> None:
    x, labels = _clustered(20, 20, 8, seed=3)
    emb = VectorEmbedder(dim=8, threshold=5.0)
    g = Gallery.create(tmp_path / "g", emb, index=IndexConfig(kind="hnsw", ef_search=200))
    g.enroll_embeddings(x, labels)
    assert g.vector_index.kind == "hnsw"
    exact = Gallery.open(tmp_path / "g", embedder=emb, index=IndexConfig(kind="flat"))
    assert exact.vector_index.kind == "flat"
    q = _clustered(20, 3, 8, seed=4)[0]
    a = [r.candidates[0].item_id for r in g.identify_embeddings(q, k=1)]
    b = [r.candidates[0].item_id for r in exact.identify_embeddings(q, k=1)]
    assert a == b
    g.close()
    exact.close()


def test_auto_index_switches_to_hnsw_beyond_the_threshold(tmp_path: Path) -> None:
    x, labels = _clustered(4, 10, 4, seed=5)
    config = IndexConfig(kind="auto", hnsw_threshold=30)
    g = Gallery.create(tmp_path / "g", VectorEmbedder(), index=config)
    g.enroll_embeddings(x[:30], labels[:30])
    assert g.vector_index.kind == "flat"
    g.enroll_embeddings(x[30:], labels[30:])
    assert g.vector_index.kind == "hnsw" and g.vector_index.count == 40
    g.close()


def test_removed_items_are_never_returned_and_stay_removed_after_reopen(tmp_path: Path) -> None:
    x, labels = _clustered(3, 10, 4, seed=6)
    emb = VectorEmbedder()
    g = Gallery.create(tmp_path / "g", emb)
    ids = g.enroll_embeddings(x, labels)
    nearest = g.identify_embeddings(x[:1], k=1)[0].candidates[0].item_id
    assert nearest == ids[0]
    g.remove([ids[0], ids[1]])
    hit = g.identify_embeddings(x[:1], k=1)[0].candidates[0]
    assert hit.item_id not in (ids[0], ids[1])
    assert g.remove_label("id2") == ids[20:]
    g.close()
    g = Gallery.open(tmp_path / "g", embedder=emb)
    live = set(ids) - {ids[0], ids[1]} - set(ids[20:])
    assert {it.id for it in g.list(limit=1000)} == live
    index = g.vector_index
    assert index.count == len(live)
    found = g.similar(ids[2], k=100)
    assert {n.item_id for n in found} == live - {ids[2]}
    with pytest.raises(UnknownItemError, match="no item with id"):
        g.get(ids[0])
    g.close()


def test_two_handles_follow_each_others_writes(tmp_path: Path) -> None:
    emb = VectorEmbedder(dim=2, threshold=0.5)
    a = Gallery.create(tmp_path / "g", emb)
    b = Gallery.open(tmp_path / "g", embedder=emb)
    (new,) = a.enroll_embeddings([[5, 5]], "zoe")
    assert b.identify_embeddings(np.array([[5, 5.1]], np.float32))[0].label == "zoe"
    a.remove(new)
    assert b.identify_embeddings(np.array([[5, 5.1]], np.float32))[0].unknown
    a.close()
    b.close()


def test_missing_stale_or_corrupt_index_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    x, labels = _clustered(3, 4, 4, seed=7)
    emb = VectorEmbedder()
    g = Gallery.create(tmp_path / "g", emb)
    g.enroll_embeddings(x[:6], labels[:6])
    g.close()  # saves index-flat.npz at 6 items
    saved = (tmp_path / "g" / "index-flat.npz").read_bytes()
    g = Gallery.open(tmp_path / "g", embedder=emb)
    g.enroll_embeddings(x[6:], labels[6:])
    g.remove([1])
    g.store.close()  # a process that died before saving its index
    (tmp_path / "g" / "index-flat.npz").write_bytes(saved)  # stale by 6 adds and 1 removal
    g = Gallery.open(tmp_path / "g", embedder=emb)
    assert sorted(g.vector_index.ids[~np.isin(g.vector_index.ids, [1])]) == list(range(2, 13))
    assert g.vector_index.count == 11
    g.close()
    (tmp_path / "g" / "index-flat.npz").write_bytes(b"not an index")
    g = Gallery.open(tmp_path / "g", embedder=emb)
    assert sorted(g.vector_index.ids.tolist()) == list(range(2, 13))
    g.close()
    (tmp_path / "g" / "index-flat.npz").unlink()
    g = Gallery.open(tmp_path / "g", embedder=emb)
    assert sorted(g.vector_index.ids.tolist()) == list(range(2, 13))
    g.close()


def test_another_model_is_refused(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", VectorEmbedder(seed=None))
    g.enroll_embeddings(np.ones((1, 4), np.float32), "a")
    g.close()
    other = VectorEmbedder(seed=1)
    with pytest.raises(ModelMismatchError, match="reembed"):
        Gallery.open(tmp_path / "g", embedder=other)
    g = Gallery.open(tmp_path / "g", embedder=VectorEmbedder(seed=None))
    with pytest.raises(ModelMismatchError, match="cannot join"):
        g.enroll_embeddings(np.ones((1, 4), np.float32), "a", fingerprint=other.fingerprint)
    assert len(g) == 1
    g.close()


def test_enroll_files_folders_and_csv_then_reembed(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for who in ("ann", "bob"):
        (tmp_path / "people" / who).mkdir(parents=True)
        for k in range(2):
            np.save(tmp_path / "people" / who / f"{k}.npy", rng.normal(size=4).astype(np.float32))
    rows = rng.normal(size=(3, 4)).round(3)
    (tmp_path / "more.csv").write_text(
        "f0,f1,f2,f3,label\n" + "".join(",".join(map(str, r)) + ",cat\n" for r in rows)
    )
    first = VectorEmbedder(seed=None)
    g = Gallery.create(tmp_path / "g", first)
    g.enroll([str(tmp_path / "people")])  # one subfolder per identity
    g.enroll([str(tmp_path / "more.csv")], metadata={"batch": 2})
    items = g.list()
    assert [it.label for it in items] == ["ann", "ann", "bob", "bob", "cat", "cat", "cat"]
    assert items[4].source == f"{tmp_path / 'more.csv'}:2" and items[4].metadata == {"batch": 2}
    second = VectorEmbedder(seed=1)
    assert g.reembed(second) == 7
    assert g.fingerprint == second.fingerprint
    for it in g.list():
        assert it.source is not None
        raw = (
            rows[int(it.source.rsplit(":", 1)[1]) - 2]
            if it.source.endswith(tuple(f":{i}" for i in range(2, 5)))
            else np.load(it.source.split("[")[0]).reshape(-1)
        )
        np.testing.assert_allclose(
            g.get(it.id).embedding, raw @ second.matrix, rtol=1e-5, atol=1e-5
        )
    q = (np.load(tmp_path / "people" / "bob" / "1.npy") @ second.matrix)[None, :]
    assert g.identify_embeddings(q, k=1)[0].candidates[0].label == "bob"
    g.enroll_embeddings(np.ones((1, 4), np.float32), "no-source")
    with pytest.raises(GalleryError, match="no source to re-embed"):
        g.reembed(first)
    assert g.fingerprint == second.fingerprint
    g.close()


def test_text_gallery(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", TextEmbedder())
    g.enroll(["aaa", "aab"], label="as")
    g.enroll(["ddd"], label="ds")
    (r,) = g.identify(["aaab"], k=2)
    assert r.label == "as" and r.candidates[0].distance == pytest.approx(1.0)  # |aaab-aab|=1
    assert g.get(3).source == "ddd" and g.get(3).source_kind == "text"
    with pytest.raises(GalleryError, match="empty text"):
        g.enroll(["  "], label="x")
    with pytest.raises(GalleryError, match="empty text"):
        g.identify([""])
    assert len(g) == 3
    g.close()


def test_unknown_label_and_bad_arguments(tmp_path: Path) -> None:
    g = Gallery.create(tmp_path / "g", VectorEmbedder(dim=2))
    g.enroll_embeddings([[0, 0]], "a")
    with pytest.raises(
        UnknownLabelError, match=r"no identity .zed. in this gallery; it holds e\.g\. a"
    ):
        g.verify_embeddings([[0, 0]], "zed")
    with pytest.raises(GalleryError, match="unknown policy 'median'"):
        g.verify_embeddings([[0, 0]], "a", policy="median")
    with pytest.raises(GalleryError, match=r"shape \(N, 2\)"):
        g.identify_embeddings([[0, 0, 0]])
    with pytest.raises(GalleryError, match="2 embeddings but 1 labels"):
        g.enroll_embeddings([[0, 0], [1, 1]], ["a"])
    with pytest.raises(GalleryError, match="NaN"):
        g.enroll_embeddings([[0, float("nan")]], "a")
    with pytest.raises(GalleryError, match="not JSON"):
        g.enroll_embeddings([[0, 0]], "a", metadata={"x": object()})
    assert len(g) == 1
    g.close()
