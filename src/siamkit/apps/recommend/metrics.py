"""Recall@k and NDCG@k for one held-out item per user, and the random-ranking expectation.

The target's rank (0 = first) is counted among the candidate items the user has not already
rated; items scoring the same as the target are counted *before* it (ties never flatter a
method). With one relevant item the ideal DCG is 1, so::

    recall@k = mean(rank < k)          NDCG@k = mean(1 / log2(rank + 2) if rank < k else 0)

Example (one user, who liked item 1 and rated item 0: item 2 is the one to recall):
    >>> case = Case(user=1, target=2, history=np.array([1]), seen=np.array([0, 1]))
    >>> ranks = target_ranks(np.array([[0.9, 0.1, 0.5]]), [case])
    >>> ranks, recall_at_k(ranks, 1), ndcg_at_k(ranks, 2)  # item 0 is seen: target first
    (array([0]), 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from siamkit.apps.recommend.ratings_data import F32, I64
from siamkit.apps.recommend.split import Case, Mask

Scorer = Callable[[Sequence[Case]], F32]  # cases -> (len(cases), I) scores, higher = better


def target_ranks(
    scores: npt.ArrayLike, cases: Sequence[Case], candidates: Mask | None = None
) -> I64:
    """Rank of each case's target among its candidates.

    Args:
        scores: ``(U, I)``, one row per case, higher is better.
        cases: The ``U`` cases (target and ``seen`` items).
        candidates: ``(I,)`` items that may be recommended (default: all).

    Returns:
        ``(U,)`` ranks, 0 = first.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.shape[0] != len(cases):
        raise ValueError(f"{s.shape[0]} score rows for {len(cases)} cases")
    ranks = np.empty(len(cases), dtype=np.int64)
    for row, case in enumerate(cases):
        allowed = np.ones(s.shape[1], dtype=bool) if candidates is None else candidates.copy()
        allowed[case.seen] = False
        if not allowed[case.target]:
            raise ValueError(f"user {case.user}: the target item {case.target} is not a candidate")
        ranks[row] = int(np.count_nonzero(allowed & (s[row] >= s[row, case.target]))) - 1
    return ranks


def recall_at_k(ranks: npt.ArrayLike, k: int = 10) -> float:
    """Share of targets ranked in the top ``k``."""
    r = np.asarray(ranks)
    return float(np.mean(r < k)) if len(r) else float("nan")


def ndcg_at_k(ranks: npt.ArrayLike, k: int = 10) -> float:
    """Mean NDCG@k with one relevant item per user: ``1 / log2(rank + 2)`` inside the top k.

    Kept beside ``sklearn.metrics.ndcg_score`` on purpose: it works from the ranks that
    recall@k uses too (computed once, without building a ``(U, I)`` relevance matrix), and
    ties count *against* the target where scikit-learn averages them. Without ties the two
    agree (``tests/apps_recommend/test_recommend_metrics.py`` checks it against scikit-learn).
    """
    r = np.asarray(ranks, dtype=np.float64)
    if not len(r):
        return float("nan")
    return float(np.mean(np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)))


@dataclass(frozen=True)
class RankingResult:
    """One method's figures.

    Attributes:
        recall: recall@k.
        ndcg: NDCG@k.
        users: Cases evaluated.
        ranks: ``(U,)`` the targets' ranks.
    """

    recall: float
    ndcg: float
    users: int
    ranks: I64


def evaluate_ranking(
    scorer: Scorer,
    cases: Sequence[Case],
    k: int = 10,
    candidates: Mask | None = None,
    batch_size: int = 256,
) -> RankingResult:
    """Score the cases in batches and return recall@k and NDCG@k."""
    ranks = [
        target_ranks(scorer(cases[i : i + batch_size]), cases[i : i + batch_size], candidates)
        for i in range(0, len(cases), batch_size)
    ]
    r = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    return RankingResult(recall_at_k(r, k), ndcg_at_k(r, k), len(r), r)


def random_expectation(
    cases: Sequence[Case], n_items: int, k: int = 10, candidates: Mask | None = None
) -> RankingResult:
    """Expected recall@k and NDCG@k of a uniformly random ranking (exact, not sampled).

    With ``n`` candidates the target's rank is uniform on ``0..n-1``, so recall@k is
    ``min(k, n) / n`` and NDCG@k is ``sum_{r < min(k, n)} 1 / log2(r + 2) / n``; the figures
    are the mean of these over the cases (``ranks`` is empty).
    """
    base = np.ones(n_items, dtype=bool) if candidates is None else candidates
    recalls, ndcgs = [], []
    for case in cases:
        allowed = base.copy()
        allowed[case.seen] = False
        n = int(allowed.sum())
        top = min(k, n)
        recalls.append(top / n)
        ndcgs.append(float(np.sum(1.0 / np.log2(np.arange(top) + 2.0))) / n)
    nan = float("nan")
    return RankingResult(
        float(np.mean(recalls)) if cases else nan,
        float(np.mean(ndcgs)) if cases else nan,
        len(cases),
        np.zeros(0, dtype=np.int64),
    )
