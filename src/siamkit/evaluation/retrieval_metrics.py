"""Retrieval metrics on labelled embeddings: precision@1, recall@K, R-precision and MAP@R.

The definitions are the ones of Musgrave, Belongie and Lim, "A Metric Learning Reality Check"
(ECCV 2020), as in pytorch-metric-learning's ``AccuracyCalculator`` (global averages, not
per-class averages). For a query with label ``y``, the neighbours are gallery items sorted
closest first (``knn_search``), and the i-th neighbour is *relevant* (``rel(i) = 1``) when its
label is ``y``. ``R`` is the number of relevant gallery items (the query itself excluded when the
gallery is the query set).

* precision@1: share of queries whose nearest neighbour is relevant.
* recall@K: share of queries with at least one relevant item among the top K (a K larger than
  the gallery means the whole gallery).
* R-precision: ``(relevant items among the top R) / R``, averaged over queries.
* MAP@R: ``(1/R) * sum_{i=1..R} P(i) * rel(i)``, with ``P(i)`` the precision of the top i,
  averaged over queries.

Queries with ``R = 0`` (their label is absent from the gallery) are skipped by R-precision and
MAP@R, which are undefined for them, and counted in ``num_queries_without_match``; they count
as misses for precision@1 and recall@K.

Example:
    >>> from sklearn.datasets import load_digits
    >>> emb, labels = load_digits(return_X_y=True)  # 8x8 digits as 64-d vectors
    >>> m = retrieval_metrics(emb, labels, distance="cosine")  # leave-one-out on one set
    >>> round(m.precision_at_1, 3), round(m.recall_at_k[5], 3), round(m.map_at_r, 3)
    (0.989, 0.998, 0.54)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.knn import ExactKnn, as_float32_matrix


@dataclass(frozen=True)
class RetrievalMetrics:
    """Retrieval quality of embeddings over a labelled query set (definitions in the module).

    Attributes:
        precision_at_1: Share of queries whose nearest neighbour has their label.
        recall_at_k: K -> share of queries with a same-label item in their top K.
        map_at_r: Mean average precision at R over queries with R > 0 (NaN if there are none).
        r_precision: Mean R-precision over queries with R > 0 (NaN if there are none).
        num_queries: Number of queries evaluated.
        num_queries_without_match: Queries with no same-label gallery item (R = 0), left out
            of ``map_at_r`` and ``r_precision``.
    """

    precision_at_1: float
    recall_at_k: dict[int, float]
    map_at_r: float
    r_precision: float
    num_queries: int
    num_queries_without_match: int

    def as_dict(self) -> dict[str, float]:
        """Flat name -> value mapping for logs and reports (``recall_at_5`` for K = 5, ...)."""
        out: dict[str, float] = {"precision_at_1": self.precision_at_1}
        out.update({f"recall_at_{k}": v for k, v in self.recall_at_k.items()})
        out["map_at_r"] = self.map_at_r
        out["r_precision"] = self.r_precision
        out["num_queries"] = self.num_queries
        out["num_queries_without_match"] = self.num_queries_without_match
        return out


def retrieval_metrics(
    query_emb: np.ndarray | Tensor,
    query_labels: np.ndarray | Tensor,
    gallery_emb: np.ndarray | Tensor | None = None,
    gallery_labels: np.ndarray | Tensor | None = None,
    distance: Distance | str = "euclidean",
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 1024,
) -> RetrievalMetrics:
    """Precision@1, recall@K, R-precision and MAP@R of queries retrieved from a gallery.

    Queries are processed ``chunk_size`` at a time; each chunk searches
    ``k = max(max(ks), largest R in the chunk)`` neighbours (at most the gallery size), so memory
    stays ``O(chunk_size * k) <= O(chunk_size * G)`` even for large sets.

    Args:
        query_emb: ``(Q, D)`` embeddings, numpy or torch.
        query_labels: ``(Q,)`` labels (integers, or anything numpy compares with ``==``).
        gallery_emb: ``(G, D)`` embeddings to retrieve from; ``None`` (default) uses the query
            set itself with each query's own row left out (leave-one-out).
        gallery_labels: ``(G,)`` labels; given exactly when ``gallery_emb`` is.
        distance: A ``Distance`` or its registered name.
        ks: The K values of recall@K, each >= 1.
        chunk_size: Queries per search; lower it to use less memory.

    Returns:
        ``RetrievalMetrics``; ties between equally distant neighbours are broken by the search
        backend's order.

    Raises:
        ValueError: on mismatched lengths or sizes, NaN or inf embeddings, an empty query set,
            fewer than 2 items for leave-one-out, only one of ``gallery_emb`` /
            ``gallery_labels``, or a bad ``ks``.

    Example:
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)
        >>> m = retrieval_metrics(x[1::2], y[1::2], x[::2], y[::2], distance="cosine")
        >>> round(m.as_dict()["recall_at_5"], 3)
        0.996
    """
    if (gallery_emb is None) != (gallery_labels is None):
        raise ValueError(
            "pass both gallery_emb and gallery_labels, or neither (to retrieve within the "
            f"query set); got gallery_emb={'None' if gallery_emb is None else 'an array'} and "
            f"gallery_labels={'None' if gallery_labels is None else 'an array'}"
        )
    k_values = _check_ks(ks)
    queries = as_float32_matrix(query_emb, "query")  # (Q, D)
    q_labels = _as_labels(query_labels, "query_labels", queries.shape[0])  # (Q,)
    if queries.shape[0] == 0:
        raise ValueError("retrieval metrics need at least one query; got 0 query embeddings")
    leave_one_out = gallery_emb is None
    if gallery_emb is None or gallery_labels is None:
        if queries.shape[0] < 2:
            raise ValueError(
                "leave-one-out retrieval (no gallery given) needs at least 2 items; got 1. "
                "Pass more embeddings or a separate gallery"
            )
        knn = ExactKnn(queries, distance, chunk_size=chunk_size)
        g_labels = q_labels
    else:
        knn = ExactKnn(gallery_emb, distance, chunk_size=chunk_size)
        g_labels = _as_labels(gallery_labels, "gallery_labels", len(knn))  # (G,)
        if len(knn) == 0:
            raise ValueError("the gallery is empty; pass at least one gallery embedding")
    available = len(knn) - (1 if leave_one_out else 0)
    r_all = _relevant_counts(q_labels, g_labels, leave_one_out)  # (Q,)

    p1_hits = 0
    recall_hits = dict.fromkeys(k_values, 0)
    rp_sum = 0.0
    map_sum = 0.0
    for s in range(0, queries.shape[0], chunk_size):
        chunk_r = r_all[s : s + chunk_size]  # (c,)
        k = min(max(k_values[-1], int(chunk_r.max())), available)
        nb = knn.search(queries[s : s + chunk_size], k, self_offset=s if leave_one_out else None)
        rel = g_labels[nb.indices] == q_labels[s : s + chunk_size, None]  # (c, k)
        p1_hits += int(rel[:, 0].sum())
        for kk in k_values:
            recall_hits[kk] += int(rel[:, :kk].any(axis=1).sum())
        rp, ap = _r_precision_and_average_precision(rel, chunk_r)  # (c,) each, NaN where R = 0
        has_match = chunk_r > 0
        rp_sum += float(rp[has_match].sum())
        map_sum += float(ap[has_match].sum())

    n = queries.shape[0]
    n_matched = int((r_all > 0).sum())
    return RetrievalMetrics(
        precision_at_1=p1_hits / n,
        recall_at_k={kk: recall_hits[kk] / n for kk in k_values},
        map_at_r=map_sum / n_matched if n_matched else float("nan"),
        r_precision=rp_sum / n_matched if n_matched else float("nan"),
        num_queries=n,
        num_queries_without_match=n - n_matched,
    )


def _r_precision_and_average_precision(
    rel: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R-precision and AP@R of each row of a ``(c, k)`` relevance matrix with ``k >= R``.

    Returns:
        ``(c,)`` R-precision and ``(c,)`` AP@R; NaN where ``R = 0``.
    """
    ranks = np.arange(1, rel.shape[1] + 1)  # (k,)
    within_r = ranks[None, :] <= r[:, None]  # (c, k)
    hits = rel & within_r  # (c, k) relevant and in the top R
    precision_at_i = np.cumsum(rel, axis=1, dtype=np.int64) / ranks  # (c, k) P(i)
    with np.errstate(divide="ignore", invalid="ignore"):
        rp = hits.sum(axis=1) / r  # (c,)
        ap = np.where(hits, precision_at_i, 0.0).sum(axis=1) / r  # (c,)
    return np.where(r > 0, rp, np.nan), np.where(r > 0, ap, np.nan)


def _relevant_counts(q_labels: np.ndarray, g_labels: np.ndarray, leave_one_out: bool) -> np.ndarray:
    """``(Q,)`` R: gallery items sharing each query's label (minus the query itself if in it)."""
    classes, counts = np.unique(g_labels, return_counts=True)  # (C,), (C,)
    pos = np.minimum(np.searchsorted(classes, q_labels), len(classes) - 1)  # (Q,)
    found = classes[pos] == q_labels  # (Q,)
    r = np.where(found, counts[pos], 0).astype(np.int64)  # (Q,)
    return r - 1 if leave_one_out else r


def _as_labels(labels: np.ndarray | Tensor, name: str, n: int) -> np.ndarray:
    arr = labels.detach().cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"{name} must be 1-D with one label per embedding ({n}); got shape {tuple(arr.shape)}"
        )
    return arr


def _check_ks(ks: Sequence[int]) -> list[int]:
    if isinstance(ks, int):
        raise ValueError(f"ks must be a sequence of K values, e.g. ks=({ks},); got ks={ks}")
    values = sorted(set(ks))
    if not values or any(isinstance(k, bool) or int(k) != k or k < 1 for k in values):
        raise ValueError(
            f"ks must be a non-empty list of integers >= 1 (the K of recall@K); got {list(ks)}"
        )
    return [int(k) for k in values]
