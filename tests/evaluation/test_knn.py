"""knn_search against a brute-force scipy distance matrix, on both the FAISS and torch paths."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.knn import ExactKnn, Neighbours, knn_search

# siamkit name -> scipy cdist metric
SCIPY_METRIC = {
    "euclidean": "euclidean",
    "squared_euclidean": "sqeuclidean",
    "cosine": "cosine",
    "manhattan": "cityblock",
}
NAMES = sorted(SCIPY_METRIC)


@pytest.fixture(params=["faiss", "torch"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once with FAISS and once with ``import faiss`` raising ImportError."""
    if request.param == "faiss":
        pytest.importorskip("faiss")
    else:
        monkeypatch.setitem(sys.modules, "faiss", None)  # `import faiss` -> ImportError
    return str(request.param)


def _data(q: int, g: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(q, d)).astype(np.float32),
        rng.normal(size=(g, d)).astype(np.float32),
    )


def _brute_force(
    query: np.ndarray, gallery: np.ndarray, k: int, name: str, exclude_self: bool = False
) -> Neighbours:
    """The reference: a full float64 distance matrix, each row sorted by a plain loop."""
    full = cdist(query.astype(np.float64), gallery.astype(np.float64), SCIPY_METRIC[name])
    indices, distances = [], []
    for i, row in enumerate(full):
        order = sorted(range(len(row)), key=lambda j: row[j])
        if exclude_self:
            order = [j for j in order if j != i]
        indices.append(order[:k])
        distances.append([row[j] for j in order[:k]])
    return Neighbours(np.array(indices), np.array(distances))


def _assert_matches(got: Neighbours, want: Neighbours) -> None:
    assert got.indices.dtype == np.int64
    assert got.distances.dtype == np.float32
    assert got.indices.shape == want.indices.shape
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.distances, want.distances, rtol=1e-4, atol=1e-5)


def test_backend_fixture_selects_the_path(backend: str) -> None:
    knn = ExactKnn(np.zeros((3, 2), np.float32), "euclidean")
    assert knn.uses_faiss == (backend == "faiss")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunk_size", [1, 4, 1024])
def test_matches_brute_force(backend: str, name: str, chunk_size: int) -> None:
    query, gallery = _data(13, 29, 6, seed=0)
    got = knn_search(query, gallery, k=5, distance=name, chunk_size=chunk_size)
    _assert_matches(got, _brute_force(query, gallery, 5, name))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunk_size", [3, 1024])
def test_exclude_self_matches_brute_force(backend: str, name: str, chunk_size: int) -> None:
    x, _ = _data(21, 1, 5, seed=1)
    got = knn_search(x, x, k=4, distance=name, exclude_self=True, chunk_size=chunk_size)
    _assert_matches(got, _brute_force(x, x, 4, name, exclude_self=True))


@pytest.mark.parametrize("name", NAMES)
def test_k_equal_to_gallery_size_sorts_the_whole_gallery(backend: str, name: str) -> None:
    query, gallery = _data(4, 9, 3, seed=2)
    got = knn_search(query, gallery, k=9, distance=name)
    _assert_matches(got, _brute_force(query, gallery, 9, name))
    exclude = knn_search(gallery, gallery, k=8, distance=name, exclude_self=True)
    _assert_matches(exclude, _brute_force(gallery, gallery, 8, name, exclude_self=True))


# Rows 0-1 are one point twice, rows 2-4 another point three times, row 5 stands alone.
DUPLICATES = np.array(
    [[1.0, 1.0], [1.0, 1.0], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0], [9.0, 0.0]], np.float32
)


@pytest.mark.parametrize("name", ["euclidean", "squared_euclidean", "manhattan"])
@pytest.mark.parametrize("chunk_size", [1, 2, 1024])
def test_exclude_self_drops_own_row_not_duplicates(
    backend: str, name: str, chunk_size: int
) -> None:
    got = knn_search(DUPLICATES, DUPLICATES, 2, name, exclude_self=True, chunk_size=chunk_size)
    own = np.arange(len(DUPLICATES))[:, None]
    assert not (got.indices == own).any()
    # Each duplicate's nearest neighbour is another copy, at distance 0.
    assert got.indices[0, 0] == 1 and got.indices[1, 0] == 0
    for i in (2, 3, 4):
        assert set(got.indices[i].tolist()) == {2, 3, 4} - {i}
        np.testing.assert_allclose(got.distances[i], 0.0, atol=1e-3)
    np.testing.assert_allclose(got.distances[0, 0], 0.0, atol=1e-3)


def test_exclude_self_with_more_copies_than_k(backend: str) -> None:
    # Ten identical rows, k = 2: self may fall outside the k + 1 searched; it still never shows.
    x = np.ones((10, 3), np.float32)
    got = knn_search(x, x, k=2, distance="euclidean", exclude_self=True, chunk_size=3)
    assert got.indices.shape == (10, 2)
    assert not (got.indices == np.arange(10)[:, None]).any()
    for row in got.indices:
        assert len(set(row.tolist())) == 2
    np.testing.assert_allclose(got.distances, 0.0, atol=1e-3)


def test_cosine_with_a_zero_row_is_distance_one(backend: str) -> None:
    gallery = np.array([[0.0, 0.0], [1.0, 0.0]], np.float32)
    got = knn_search(np.array([[0.0, 2.0]], np.float32), gallery, k=2, distance="cosine")
    np.testing.assert_allclose(got.distances, [[1.0, 1.0]], atol=1e-6)


def test_torch_and_float64_inputs(backend: str) -> None:
    query, gallery = _data(5, 8, 3, seed=3)
    want = _brute_force(query, gallery, 3, "euclidean")
    got = knn_search(
        torch.from_numpy(query).double().requires_grad_(), torch.from_numpy(gallery), 3, "euclidean"
    )
    _assert_matches(got, want)
    _assert_matches(knn_search(query.astype(np.float64), gallery, 3, "euclidean"), want)


def test_empty_query_gives_empty_result(backend: str) -> None:
    _, gallery = _data(1, 4, 3, seed=4)
    got = knn_search(np.zeros((0, 3), np.float32), gallery, k=2, distance="cosine")
    assert got.indices.shape == (0, 2) and got.distances.shape == (0, 2)


class _DotSimilarity(Distance):
    """A similarity (larger = closer): not a FAISS metric, so always the torch path."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


@pytest.mark.parametrize("chunk_size", [2, 1024])
def test_similarity_sorted_largest_first(backend: str, chunk_size: int) -> None:
    query, gallery = _data(6, 10, 4, seed=5)
    assert not ExactKnn(gallery, _DotSimilarity()).uses_faiss
    got = knn_search(query, gallery, 3, _DotSimilarity(), chunk_size=chunk_size)
    for i in range(6):
        scores = [float(query[i].astype(np.float64) @ g.astype(np.float64)) for g in gallery]
        order = sorted(range(10), key=lambda j: -scores[j])[:3]
        assert got.indices[i].tolist() == order
        np.testing.assert_allclose(got.distances[i], [scores[j] for j in order], rtol=1e-5)


@pytest.mark.parametrize(
    ("k", "exclude_self", "match"),
    [
        (0, False, r"between 1 and the number of gallery items \(6\); got k=0"),
        (7, False, r"between 1 and the number of gallery items \(6\); got k=7"),
        (6, True, r"other than itself \(5\); got k=6"),
    ],
)
def test_bad_k_says_the_maximum(backend: str, k: int, exclude_self: bool, match: str) -> None:
    x, _ = _data(6, 1, 2, seed=6)
    with pytest.raises(ValueError, match=match):
        knn_search(x, x, k=k, distance="euclidean", exclude_self=exclude_self)


def test_errors_name_the_problem() -> None:
    x, g = _data(3, 4, 2, seed=7)
    with pytest.raises(ValueError, match=r"query has D=2, gallery has D=3"):
        knn_search(x, np.zeros((4, 3), np.float32), 1, "euclidean")
    bad = x.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"query embeddings contain NaN or inf in 1 of 3 rows"):
        knn_search(bad, g, 1, "euclidean")
    bad_g = g.copy()
    bad_g[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"gallery embeddings contain NaN or inf"):
        knn_search(x, bad_g, 1, "euclidean")
    with pytest.raises(ValueError, match=r"gallery embeddings contain NaN or inf"):
        knn_search(x, np.full((2, 2), 1e300), 1, "euclidean")  # overflows float32
    with pytest.raises(
        ValueError, match=r"query embeddings must be 2-D \(N, D\); got shape \(2,\)"
    ):
        knn_search(x[0], g, 1, "euclidean")
    with pytest.raises(ValueError, match=r"got 3 queries and 4 gallery items"):
        knn_search(x, g, 1, "euclidean", exclude_self=True)
    with pytest.raises(ValueError, match=r"chunk_size must be >= 1, got 0"):
        knn_search(x, g, 1, "euclidean", chunk_size=0)
    with pytest.raises(ValueError, match=r"unknown distance 'cosin'; choose one of: cosine"):
        knn_search(x, g, 1, "cosin")


@pytest.mark.parametrize("before", [1024, 2048, 100_000])
def test_faiss_block_setting_is_restored(before: int) -> None:
    faiss = pytest.importorskip("faiss")
    old = faiss.cvar.distance_compute_blas_database_bs
    faiss.cvar.distance_compute_blas_database_bs = before
    try:
        query, gallery = _data(30, 40, 4, seed=8)  # >= 20 queries: FAISS's BLAS path
        _assert_matches(
            knn_search(query, gallery, 3, "euclidean"), _brute_force(query, gallery, 3, "euclidean")
        )
        assert faiss.cvar.distance_compute_blas_database_bs == before
    finally:
        faiss.cvar.distance_compute_blas_database_bs = old
