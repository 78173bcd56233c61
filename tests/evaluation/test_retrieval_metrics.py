"""retrieval_metrics against a plain-loop reference and hand-worked 1-D examples."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from siamkit.distances import get_distance
from siamkit.evaluation.retrieval import precision_at_1
from siamkit.evaluation.retrieval_metrics import RetrievalMetrics, retrieval_metrics

SCIPY_METRIC = {
    "euclidean": "euclidean",
    "squared_euclidean": "sqeuclidean",
    "cosine": "cosine",
    "manhattan": "cityblock",
}


@pytest.fixture(params=["faiss", "torch"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once with FAISS and once with ``import faiss`` raising ImportError."""
    if request.param == "faiss":
        pytest.importorskip("faiss")
    else:
        monkeypatch.setitem(sys.modules, "faiss", None)
    return str(request.param)


@dataclass
class _Reference:
    precision_at_1: float
    recall_at_k: dict[int, float]
    map_at_r: float
    r_precision: float
    without_match: int


def _reference(
    q: np.ndarray,
    q_labels: np.ndarray,
    g: np.ndarray | None,
    g_labels: np.ndarray | None,
    metric: str,
    ks: tuple[int, ...],
) -> _Reference:
    """Musgrave et al. (2020) definitions, one query at a time over a full distance matrix."""
    leave_one_out = g is None
    if g is None or g_labels is None:
        g, g_labels = q, q_labels
    full = cdist(q.astype(np.float64), g.astype(np.float64), metric)
    p1 = 0
    recall = dict.fromkeys(ks, 0)
    rp_values, ap_values = [], []
    for i in range(len(q)):
        order = sorted(range(len(g)), key=lambda j: full[i, j])
        if leave_one_out:
            order.remove(i)
        rel = [int(g_labels[j] == q_labels[i]) for j in order]
        r = sum(rel)  # every same-label gallery item appears somewhere in the ranking
        p1 += rel[0]
        for k in ks:
            recall[k] += int(any(rel[:k]))
        if r == 0:
            continue
        rp_values.append(sum(rel[:r]) / r)
        ap = 0.0
        for pos in range(1, r + 1):
            if rel[pos - 1]:
                ap += sum(rel[:pos]) / pos
        ap_values.append(ap / r)
    n = len(q)
    return _Reference(
        precision_at_1=p1 / n,
        recall_at_k={k: v / n for k, v in recall.items()},
        map_at_r=float(np.mean(ap_values)) if ap_values else math.nan,
        r_precision=float(np.mean(rp_values)) if rp_values else math.nan,
        without_match=n - len(ap_values),
    )


def _assert_close(got: RetrievalMetrics, want: _Reference, n: int) -> None:
    assert got.num_queries == n
    assert got.num_queries_without_match == want.without_match
    assert got.precision_at_1 == pytest.approx(want.precision_at_1, abs=1e-12)
    assert got.recall_at_k == pytest.approx(want.recall_at_k, abs=1e-12)
    assert got.map_at_r == pytest.approx(want.map_at_r, abs=1e-12)
    assert got.r_precision == pytest.approx(want.r_precision, abs=1e-12)


def _clusters(n: int, classes: int, seed: int, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian clusters: metrics strictly between 0 and 1."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    centres = rng.normal(scale=1.5, size=(classes, d))
    x = centres[labels] + rng.normal(size=(n, d))
    return x.astype(np.float32), labels


@pytest.mark.parametrize("name", sorted(SCIPY_METRIC))
@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_leave_one_out_matches_loop(backend: str, name: str, chunk_size: int) -> None:
    x, y = _clusters(60, 4, seed=0)
    y[5] = 99  # a singleton class: R = 0 for that query
    ks = (1, 3, 10)  # R is about 15 > max(ks): the chunk search depth follows R
    got = retrieval_metrics(x, y, distance=name, ks=ks, chunk_size=chunk_size)
    want = _reference(x, y, None, None, SCIPY_METRIC[name], ks)
    assert want.without_match == 1
    assert 0.2 < want.map_at_r < 0.9
    _assert_close(got, want, 60)


@pytest.mark.parametrize("name", sorted(SCIPY_METRIC))
@pytest.mark.parametrize("chunk_size", [4, 1024])
def test_separate_query_and_gallery_match_loop(backend: str, name: str, chunk_size: int) -> None:
    q, q_labels = _clusters(25, 5, seed=1)
    g, g_labels = _clusters(40, 5, seed=2)
    g_labels = np.where(g_labels == 4, 3, g_labels)  # label 4 queries have no match
    ks = (1, 2, 5, 100)  # 100 > gallery size: recall over the whole gallery
    got = retrieval_metrics(q, q_labels, g, g_labels, distance=name, ks=ks, chunk_size=chunk_size)
    want = _reference(q, q_labels, g, g_labels, SCIPY_METRIC[name], ks)
    assert want.without_match > 0
    _assert_close(got, want, 25)
    assert got.recall_at_k[100] == pytest.approx(1 - want.without_match / 25)


@pytest.mark.parametrize("seed", range(3))
def test_precision_at_1_agrees_with_the_torch_version(seed: int) -> None:
    x, y = _clusters(50, 3, seed=seed)
    got = retrieval_metrics(torch.from_numpy(x), torch.from_numpy(y), distance="manhattan")
    want = precision_at_1(torch.from_numpy(x), torch.from_numpy(y), get_distance("manhattan"))
    assert got.precision_at_1 == pytest.approx(want, abs=1e-6)


# Leave-one-out on a line (euclidean), labels A A B A B:
#   item      x    neighbours, closest first       rel      R  P@1  RP    AP@R
#   0 (A)    0.0   1(A) 2(B) 3(A) 4(B)             1 0 1 0  2  1    1/2   (1/2)(1/1)        = 1/2
#   1 (A)    1.0   2(B) 0(A) 3(A) 4(B)             0 1 1 0  2  0    1/2   (1/2)(1/2)        = 1/4
#   2 (B)    1.8   1(A) 3(A) 4(B) 0(A)             0 0 1 0  1  0    0     0
#   3 (A)    3.0   4(B) 2(B) 1(A) 0(A)             0 0 1 1  2  0    0     0  (hits past R=2)
#   4 (B)    3.5   3(A) 2(B) 1(A) 0(A)             0 1 0 0  1  0    0     0
# P@1 = 1/5; recall@2 = 3/5 (items 0, 1, 4); recall@3 = 5/5;
# R-precision = (1/2 + 1/2) / 5 = 1/5; MAP@R = (1/2 + 1/4) / 5 = 3/20.
LINE = np.array([[0.0], [1.0], [1.8], [3.0], [3.5]])
LINE_LABELS = np.array([0, 0, 1, 0, 1])


@pytest.mark.parametrize("chunk_size", [1, 2, 1024])
def test_hand_worked_leave_one_out(backend: str, chunk_size: int) -> None:
    got = retrieval_metrics(LINE, LINE_LABELS, ks=(1, 2, 3), chunk_size=chunk_size)
    assert got.precision_at_1 == pytest.approx(1 / 5)
    assert got.recall_at_k == pytest.approx({1: 1 / 5, 2: 3 / 5, 3: 1.0})
    assert got.r_precision == pytest.approx(1 / 5)
    assert got.map_at_r == pytest.approx(3 / 20)
    assert got.num_queries == 5 and got.num_queries_without_match == 0


# Separate gallery on a line: g0=1(A) g1=2(B) g2=3(A) g3=4(A) g4=5(B).
#   query      x    ranking          rel        R  RP    AP@R
#   q0 (A)    0.0   g0 g1 g2 g3 g4   1 0 1 1 0  3  2/3   (1/3)(1/1 + 2/3)  = 5/9
#   q1 (B)    5.5   g4 g3 g2 g1 g0   1 0 0 1 0  2  1/2   (1/2)(1/1)        = 1/2
#   q2 (C)    0.0   (no C in the gallery: R = 0, skipped by RP and MAP@R; a miss for P@1)
# P@1 = 2/3; MAP@R = (5/9 + 1/2) / 2 = 19/36; R-precision = (2/3 + 1/2) / 2 = 7/12.
GALLERY = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
GALLERY_LABELS = np.array(["A", "B", "A", "A", "B"])
QUERIES = np.array([[0.0], [5.5], [0.0]])
QUERY_LABELS = np.array(["A", "B", "C"])


def test_hand_worked_separate_gallery(backend: str) -> None:
    got = retrieval_metrics(QUERIES, QUERY_LABELS, GALLERY, GALLERY_LABELS, ks=(1, 5))
    assert got.precision_at_1 == pytest.approx(2 / 3)
    assert got.recall_at_k == pytest.approx({1: 2 / 3, 5: 2 / 3})
    assert got.map_at_r == pytest.approx(19 / 36)
    assert got.r_precision == pytest.approx(7 / 12)
    assert got.num_queries == 3 and got.num_queries_without_match == 1


def test_no_query_has_a_match_gives_nan() -> None:
    got = retrieval_metrics(QUERIES[2:], QUERY_LABELS[2:], GALLERY, GALLERY_LABELS, ks=(1,))
    assert math.isnan(got.map_at_r) and math.isnan(got.r_precision)
    assert got.precision_at_1 == 0.0
    assert got.num_queries_without_match == 1


def test_perfect_clusters_score_one() -> None:
    x = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [9.0, 9.0], [9.1, 9.0], [9.0, 9.1]])
    got = retrieval_metrics(x, np.array([0, 0, 0, 1, 1, 1]), ks=(1, 2))
    assert got.as_dict() == {
        "precision_at_1": 1.0,
        "recall_at_1": 1.0,
        "recall_at_2": 1.0,
        "map_at_r": 1.0,
        "r_precision": 1.0,
        "num_queries": 6,
        "num_queries_without_match": 0,
    }


def test_as_dict_orders_recall_by_k() -> None:
    got = retrieval_metrics(LINE, LINE_LABELS, ks=(3, 1))
    assert list(got.as_dict()) == [
        "precision_at_1",
        "recall_at_1",
        "recall_at_3",
        "map_at_r",
        "r_precision",
        "num_queries",
        "num_queries_without_match",
    ]


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="pass both gallery_emb and gallery_labels, or neither"):
        retrieval_metrics(LINE, LINE_LABELS, gallery_emb=GALLERY)
    with pytest.raises(ValueError, match=r"query_labels must be 1-D with one label per .* \(5\)"):
        retrieval_metrics(LINE, LINE_LABELS[:4])
    with pytest.raises(ValueError, match=r"gallery_labels must be 1-D .* \(5\); got shape \(2,\)"):
        retrieval_metrics(QUERIES, QUERY_LABELS, GALLERY, GALLERY_LABELS[:2])
    with pytest.raises(ValueError, match="at least 2 items; got 1"):
        retrieval_metrics(LINE[:1], LINE_LABELS[:1])
    with pytest.raises(ValueError, match="at least one query; got 0"):
        retrieval_metrics(LINE[:0], LINE_LABELS[:0])
    with pytest.raises(ValueError, match="the gallery is empty"):
        retrieval_metrics(QUERIES, QUERY_LABELS, GALLERY[:0], GALLERY_LABELS[:0])
    for bad_ks in [(), (0, 1), (1.5,)]:
        with pytest.raises(ValueError, match="ks must be a non-empty list of integers >= 1"):
            retrieval_metrics(LINE, LINE_LABELS, ks=bad_ks)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"e.g. ks=\(5,\)"):
        retrieval_metrics(LINE, LINE_LABELS, ks=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="query embeddings contain NaN"):
        retrieval_metrics(np.array([[0.0], [np.nan]]), np.array([0, 0]))
    with pytest.raises(ValueError, match="query has D=2, gallery has D=1"):
        retrieval_metrics(np.zeros((2, 2)), np.array([0, 0]), GALLERY, GALLERY_LABELS)
