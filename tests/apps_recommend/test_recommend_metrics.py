"""recall@k and NDCG@k against hand-worked values; the random expectation against counting."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from siamkit.apps.recommend import (
    Case,
    evaluate_ranking,
    ndcg_at_k,
    random_expectation,
    recall_at_k,
    target_ranks,
)

E = np.zeros(0, dtype=np.int64)


def test_hand_worked_ranks_and_figures() -> None:
    scores = np.array(
        [
            [0.9, 0.1, 0.5, 0.7],  # target 2: item 0 is seen, item 3 beats it -> rank 1
            [0.2, 0.8, 0.2, 0.1],  # target 0 ties item 2: the tie counts against it -> rank 2
            [0.0, 0.0, 0.0, 1.0],  # target 3 -> rank 0
        ]
    )
    cases = [
        Case(1, 2, E, np.array([0])),
        Case(2, 0, E, E),
        Case(3, 3, E, E),
    ]
    ranks = target_ranks(scores, cases)
    assert ranks.tolist() == [1, 2, 0]
    assert recall_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranks, 2) == pytest.approx(2 / 3)
    # NDCG@2: 1/log2(3) for rank 1, 0 for rank 2, 1 for rank 0
    assert ndcg_at_k(ranks, 2) == pytest.approx((1 / math.log2(3) + 0 + 1) / 3)
    assert ndcg_at_k(ranks, 3) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4) + 1) / 3)
    # candidates: only items 1 and 2 -> case 1's rank is 0 (item 3 is not a candidate)
    cand = np.array([False, True, True, False])
    assert target_ranks(scores[:1], cases[:1], cand).tolist() == [0]
    with pytest.raises(ValueError, match="not a candidate"):
        target_ranks(scores[1:2], cases[1:2], cand)


def test_evaluate_ranking_matches_a_loop() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 40))
    cases = [
        Case(u, int(rng.integers(20, 40)), E, rng.choice(20, size=5, replace=False))
        for u in range(50)
    ]
    res = evaluate_ranking(lambda cs: scores[[c.user for c in cs]], cases, k=10, batch_size=7)
    hits, dcg = 0.0, 0.0
    for c in cases:
        allowed = [i for i in range(40) if i not in c.seen]
        ordered = sorted(allowed, key=lambda i: -scores[c.user, i])
        rank = ordered.index(c.target)
        hits += rank < 10
        dcg += 1 / math.log2(rank + 2) if rank < 10 else 0.0
    assert res.recall == pytest.approx(hits / 50) and res.ndcg == pytest.approx(dcg / 50)
    assert res.users == 50


def test_random_expectation_is_the_mean_over_every_rank() -> None:
    cases = [Case(1, 0, E, np.array([1, 2])), Case(2, 3, E, E)]
    cand = np.array([True] * 12 + [False] * 3)
    got = random_expectation(cases, 15, k=10, candidates=cand)
    recalls, ndcgs = [], []
    for c in cases:
        n = int(cand.sum()) - len(c.seen)  # 10, then 12 candidates
        ranks = np.arange(n)  # the target equally likely at each rank
        recalls.append(recall_at_k(ranks, 10))
        ndcgs.append(ndcg_at_k(ranks, 10))
    assert got.recall == pytest.approx(np.mean(recalls))
    assert got.ndcg == pytest.approx(np.mean(ndcgs))
    assert recalls[0] == 1.0  # 10 candidates, k = 10
    # and a simulation of random scores agrees
    rng = np.random.default_rng(0)
    sims = [
        evaluate_ranking(lambda cs: rng.random((len(cs), 15)), cases, 10, cand).recall
        for _ in itertools.repeat(None, 400)
    ]
    assert np.mean(sims) == pytest.approx(got.recall, abs=0.03)


def test_ndcg_matches_scikit_learn_without_ties() -> None:
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(3)
    scores = rng.random((40, 25))  # continuous: no ties
    cases = [Case(u, int(rng.integers(0, 25)), E, np.array([], dtype=np.int64)) for u in range(40)]
    ranks = target_ranks(scores, cases)
    truth = np.zeros_like(scores)
    truth[np.arange(40), [c.target for c in cases]] = 1.0
    for k in (1, 5, 10):
        assert ndcg_at_k(ranks, k) == pytest.approx(ndcg_score(truth, scores, k=k), abs=1e-12)
