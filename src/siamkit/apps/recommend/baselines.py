"""The baselines the Siamese item embeddings are measured against: popularity and item-kNN.

* **Popularity**: every user gets the items liked by the most users on the training side.
* **Item-kNN** (Sarwar et al., "Item-based collaborative filtering recommendation
  algorithms", WWW 2001): the cosine similarity of two items' columns of the user x item
  rating matrix; each item keeps its ``neighbours`` most similar items, and an item's score for
  a user is the sum of its similarities to the items the user liked.

Example (three users and four items; users 1 and 2 both like items 0 and 1):
    >>> from siamkit.apps.recommend.split import leave_last_out
    >>> ratings = Ratings(
    ...     user=np.array([1, 1, 1, 2, 2, 3, 3]),
    ...     item=np.array([0, 1, 2, 0, 1, 1, 3]),
    ...     rating=np.array([5, 4, 5, 4, 5, 5, 4], dtype=np.float32),
    ...     timestamp=np.arange(7),
    ... )
    >>> R = rating_matrix(ratings, n_items=4)  # (users, I) sparse
    >>> R.shape
    (3, 4)
    >>> scorer = item_knn_scorer(item_knn_similarity(R, neighbours=2), n_items=4)
    >>> cases = leave_last_out(ratings).cases  # each user's last like held out
    >>> scorer(cases).round(2)  # (len(cases), I)
    array([[0.77, 0.77, 0.78, 0.62],
           [0.  , 0.77, 0.78, 0.  ],
           [0.77, 0.  , 0.  , 0.62]], dtype=float32)
    >>> popularity_scorer(like_counts(ratings, n_items=4))(cases[:1])
    array([[2., 3., 1., 1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from siamkit.apps.recommend.metrics import Scorer
from siamkit.apps.recommend.ratings_data import F32, Ratings
from siamkit.apps.recommend.split import LIKE_THRESHOLD, Case


def like_counts(ratings: Ratings, n_items: int, like_threshold: float = LIKE_THRESHOLD) -> F32:
    """``(I,)`` how many ratings of each item are likes."""
    liked = ratings.item[ratings.rating >= like_threshold]
    return np.bincount(liked, minlength=n_items).astype(np.float32)


def popularity_scorer(counts: F32) -> Scorer:
    """The same scores ``counts (I,)`` for every user."""

    def score(cases: Sequence[Case]) -> F32:
        return np.broadcast_to(counts, (len(cases), len(counts))).astype(np.float32)

    return score


def rating_matrix(ratings: Ratings, n_items: int) -> Any:
    """The user x item rating matrix ``(U, I)`` as a scipy CSR matrix (users in id order)."""
    from scipy import sparse

    _, rows = np.unique(ratings.user, return_inverse=True)
    n_users = int(rows.max()) + 1 if len(rows) else 0
    return sparse.csr_matrix(
        (ratings.rating.astype(np.float32), (rows, ratings.item)), shape=(n_users, n_items)
    )


def item_knn_similarity(matrix: Any, neighbours: int | None = 50, block: int = 1024) -> Any:
    """Cosine similarity of the item columns of ``matrix (U, I)``, top ``neighbours`` per item.

    The diagonal is zero; items without ratings have no neighbours. Computed ``block`` items at
    a time, so memory stays ``O(block * I)``.

    Args:
        matrix: ``(U, I)`` ratings (scipy sparse or dense).
        neighbours: Similarities kept per item (row); None keeps all.
        block: Items per block.

    Returns:
        ``(I, I)`` scipy CSR matrix; row ``h`` holds ``h``'s neighbours.
    """
    from scipy import sparse

    r = sparse.csr_matrix(matrix, dtype=np.float32)
    n_items = r.shape[1]
    norms = np.sqrt(np.asarray(r.multiply(r).sum(axis=0)).ravel())  # (I,)
    inv = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    rt = r.T.tocsr()  # (I, U)
    rows, cols, vals = [], [], []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        sim = np.asarray((rt[start:stop] @ r).todense(), dtype=np.float32)  # (b, I)
        sim *= inv[start:stop, None] * inv[None, :]
        sim[np.arange(stop - start), np.arange(start, stop)] = 0.0
        keep = n_items if neighbours is None else min(neighbours, n_items)
        top = np.argpartition(-sim, keep - 1, axis=1)[:, :keep] if keep < n_items else None
        for i in range(stop - start):
            c = np.arange(n_items) if top is None else top[i]
            v = sim[i, c]
            nz = v > 0
            rows.append(np.full(int(nz.sum()), start + i))
            cols.append(c[nz])
            vals.append(v[nz])
    cat = np.concatenate
    return sparse.csr_matrix(
        (cat(vals) if vals else [], (cat(rows) if rows else [], cat(cols) if cols else [])),
        shape=(n_items, n_items),
        dtype=np.float32,
    )


def item_knn_scorer(similarity: Any, n_items: int) -> Scorer:
    """Score = sum of the similarities from the user's liked history items ``(I, I)`` CSR."""
    from scipy import sparse

    def score(cases: Sequence[Case]) -> F32:
        rows = np.concatenate([np.full(len(c.history), i) for i, c in enumerate(cases)])
        cols = np.concatenate([c.history for c in cases])
        hist = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(cases), n_items)
        )
        hist.data[:] = 1.0  # a history lists an item once
        return np.asarray((hist @ similarity).todense(), dtype=np.float32)

    return score
