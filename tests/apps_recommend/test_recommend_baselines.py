"""Popularity and item-kNN against plain numpy references."""

from __future__ import annotations

import numpy as np
import pytest

from siamkit.apps.recommend import (
    Case,
    Ratings,
    item_knn_scorer,
    item_knn_similarity,
    like_counts,
    popularity_scorer,
    rating_matrix,
)


def _ratings(seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(1, 15, 120), rng.integers(0, 25, 120))}
    u, i = np.array(sorted(pairs)).T
    return Ratings(
        u.astype(np.int64),
        i.astype(np.int64),
        rng.choice([1.0, 3.0, 4.5, 5.0], len(u)).astype(np.float32),
        np.zeros(len(u), dtype=np.int64),
    )


def _dense_cosine(r: Ratings, n_items: int) -> np.ndarray:
    users = sorted(set(r.user.tolist()))
    m = np.zeros((len(users), n_items))
    for u, i, x in zip(r.user, r.item, r.rating):
        m[users.index(u), i] = x
    norms = np.linalg.norm(m, axis=0)
    sim = np.zeros((n_items, n_items))
    for a in range(n_items):
        for b in range(n_items):
            if a != b and norms[a] > 0 and norms[b] > 0:
                sim[a, b] = m[:, a] @ m[:, b] / (norms[a] * norms[b])
    return sim


@pytest.mark.parametrize("block", [4, 1024])
def test_item_knn_similarity_matches_numpy(block: int) -> None:
    r = _ratings()
    ref = _dense_cosine(r, 27)  # items 25, 26: never rated
    full = item_knn_similarity(rating_matrix(r, 27), None, block).toarray()
    np.testing.assert_allclose(full, ref, atol=1e-6)
    top = item_knn_similarity(rating_matrix(r, 27), 3, block).toarray()
    for h in range(27):
        kept = np.flatnonzero(top[h])
        assert len(kept) <= 3
        np.testing.assert_allclose(top[h, kept], ref[h, kept], atol=1e-6)
        if len(kept):  # the kept ones are the largest
            assert ref[h, kept].min() >= np.sort(ref[h])[-3] - 1e-6


def test_item_knn_scorer_sums_history_rows() -> None:
    r = _ratings(1)
    sim = item_knn_similarity(rating_matrix(r, 25), 5)
    dense = sim.toarray()
    e = np.zeros(0, dtype=np.int64)
    cases = [Case(1, 0, np.array([3, 7, 11]), e), Case(2, 0, np.array([4]), e)]
    got = item_knn_scorer(sim, 25)(cases)
    for row, c in enumerate(cases):
        want = sum(dense[h] for h in c.history)
        np.testing.assert_allclose(got[row], want, atol=1e-6)


def test_popularity_counts_likes() -> None:
    r = _ratings(2)
    counts = like_counts(r, 25, 4.0)
    for i in range(25):
        assert counts[i] == sum(1 for it, x in zip(r.item, r.rating) if it == i and x >= 4.0)
    e = np.zeros(0, dtype=np.int64)
    scores = popularity_scorer(counts)([Case(1, 0, e, e)] * 2)
    assert scores.shape == (2, 25) and (scores[1] == counts).all()
