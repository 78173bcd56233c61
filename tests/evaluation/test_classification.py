"""k-NN and prototype classifiers against scikit-learn, plain loops and hand-worked values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neighbors import KNeighborsClassifier
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.classification import (
    ClassificationMetrics,
    PrototypeClassification,
    classification_metrics,
    classify_and_score,
    knn_classify,
    prototype_classify,
)


class _DotSimilarity(Distance):
    """A similarity (larger = closer), to exercise that branch."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


def _data(seed: int, n_train: int = 60, n_test: int = 40, n_classes: int = 4) -> tuple:
    """Overlapping Gaussian clusters with labels 3, 6, 9, ... (not 0..C-1)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.5, size=(n_classes, 3))
    y_tr = rng.integers(0, n_classes, size=n_train)
    y_te = rng.integers(0, n_classes, size=n_test)
    x_tr = centres[y_tr] + rng.normal(size=(n_train, 3))
    x_te = centres[y_te] + rng.normal(size=(n_test, 3))
    return x_tr, 3 * y_tr + 3, x_te, 3 * y_te + 3


def _loop_knn(
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_te: np.ndarray,
    k: int,
    closeness: Callable[[np.ndarray, np.ndarray], float],
    smallest: bool = False,
) -> list[int]:
    """Majority vote by hand. Vote ties go to the tied class met first from the nearest
    neighbour, or with ``smallest`` to the smallest tied label (scikit-learn's rule)."""
    out = []
    for q in x_te:
        order = sorted(range(len(x_tr)), key=lambda i: -closeness(q, x_tr[i]))[:k]
        votes: dict[int, int] = {}
        for i in order:
            votes[int(y_tr[i])] = votes.get(int(y_tr[i]), 0) + 1
        tied = [c for c, v in votes.items() if v == max(votes.values())]
        out.append(min(tied) if smallest else next(int(y_tr[i]) for i in order if y_tr[i] in tied))
    return out


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("k", [1, 3, 4, 7])
@pytest.mark.parametrize("chunk_size", [5, 1024])
def test_knn_matches_sklearn_where_the_vote_is_not_tied(
    metric: str, k: int, chunk_size: int
) -> None:
    x_tr, y_tr, x_te, _ = _data(seed=k)
    sk = KNeighborsClassifier(n_neighbors=k, metric=metric, algorithm="brute").fit(x_tr, y_tr)
    proba = sk.predict_proba(x_te)
    untied = (proba == proba.max(1, keepdims=True)).sum(1) == 1
    assert untied.sum() >= 30  # most rows are a clean comparison
    got = knn_classify(
        torch.from_numpy(x_tr),
        torch.from_numpy(y_tr),
        torch.from_numpy(x_te),
        k,
        metric,
        chunk_size=chunk_size,
    )
    assert got.dtype == torch.from_numpy(y_tr).dtype
    np.testing.assert_array_equal(got.numpy()[untied], sk.predict(x_te)[untied])


@pytest.mark.parametrize("name", ["euclidean", "dot"])
@pytest.mark.parametrize("k", [2, 6])
def test_knn_ties_go_to_the_nearest_tied_class(name: str, k: int) -> None:
    x_tr, y_tr, x_te, _ = _data(seed=10 + k)
    if name == "dot":
        dist: str | Distance = _DotSimilarity()
        closeness: Callable[[np.ndarray, np.ndarray], float] = lambda a, b: float(a @ b)  # noqa: E731
    else:
        dist, closeness = name, lambda a, b: -float(np.linalg.norm(a - b))
    got = knn_classify(
        torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te), k, dist
    )
    assert got.tolist() == _loop_knn(x_tr, y_tr, x_te, k, closeness)
    # Some rows are vote ties where the rule matters (scikit-learn's would answer otherwise).
    assert got.tolist() != _loop_knn(x_tr, y_tr, x_te, k, closeness, smallest=True)


def test_knn_hand_made_tie() -> None:
    # 1-D: query 0.4; neighbours 0.0 (label 1, d 0.4) and 1.0 (label 0, d 0.6): one vote each.
    x_tr = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    y_tr = torch.tensor([1, 0, 0, 1])
    got = knn_classify(x_tr, y_tr, torch.tensor([[0.4], [10.6]]), k=2)
    assert got.tolist() == [1, 1]  # the nearest tied class; scikit-learn would say [0, 0]
    sk = KNeighborsClassifier(n_neighbors=2).fit(x_tr.numpy(), y_tr.numpy())
    assert sk.predict([[0.4], [10.6]]).tolist() == [0, 0]


def test_knn_with_k_equal_to_train_size_is_the_majority() -> None:
    x_tr = torch.tensor([[0.0], [1.0], [2.0], [50.0]])
    y_tr = torch.tensor([7, 7, 7, 2])
    assert knn_classify(x_tr, y_tr, torch.tensor([[49.0]]), k=4).tolist() == [7]
    assert knn_classify(x_tr, y_tr, torch.tensor([[49.0]]), k=1).tolist() == [2]


def test_prototype_probabilities_by_hand() -> None:
    # Class 5: prototype (4, 0). Class 0: (0, 0) and (2, 0), prototype (1, 0).
    x_tr = torch.tensor([[4.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    y_tr = torch.tensor([5, 0, 0])
    x_te = torch.tensor([[2.0, 0.0], [4.0, 4.0]])
    t = 0.5
    res = prototype_classify(x_tr, y_tr, x_te, "euclidean", temperature=t)
    assert isinstance(res, PrototypeClassification)
    # Row 0: distances 1 (class 0) and 2 (class 5); row 1: sqrt(9 + 16) = 5 and 4.
    want = []
    for d0, d5 in [(1.0, 2.0), (5.0, 4.0)]:
        e0, e5 = math.exp(-d0 / t), math.exp(-d5 / t)
        want.append([e0 / (e0 + e5), e5 / (e0 + e5)])  # columns: labels 0, 5 in order
    torch.testing.assert_close(res.probabilities, torch.tensor(want))
    assert res.predictions.tolist() == [0, 5]


def test_prototype_probabilities_of_a_similarity_by_hand() -> None:
    x_tr = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    y_tr = torch.tensor([2, 1, 1])  # prototypes: class 1 -> (0, 2), class 2 -> (1, 0)
    x_te = torch.tensor([[1.0, 1.0]])
    preds, probs = prototype_classify(x_tr, y_tr, x_te, _DotSimilarity(), temperature=2.0)
    e1, e2 = math.exp(2.0 / 2.0), math.exp(1.0 / 2.0)  # dot products 2 and 1, over T
    torch.testing.assert_close(probs, torch.tensor([[e1 / (e1 + e2), e2 / (e1 + e2)]]))
    assert preds.tolist() == [1]


@pytest.mark.parametrize("chunk_size", [1, 7, 1024])
def test_prototype_predictions_match_a_loop(chunk_size: int) -> None:
    x_tr, y_tr, x_te, _ = _data(seed=3)
    res = prototype_classify(
        torch.from_numpy(x_tr),
        torch.from_numpy(y_tr),
        torch.from_numpy(x_te),
        "manhattan",
        chunk_size=chunk_size,
    )
    classes = sorted(set(y_tr.tolist()))
    protos = {c: x_tr[y_tr == c].mean(0) for c in classes}
    want = [min(classes, key=lambda c: np.abs(q - protos[c]).sum()) for q in x_te]
    assert res.predictions.tolist() == want
    assert res.probabilities.shape == (len(x_te), len(classes))
    torch.testing.assert_close(res.probabilities.sum(1), torch.ones(len(x_te), dtype=torch.float64))


def test_temperature_sharpens_but_keeps_predictions() -> None:
    x_tr, y_tr, x_te, _ = _data(seed=5)
    args = (torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te), "euclidean")
    soft = prototype_classify(*args, temperature=10.0)
    sharp = prototype_classify(*args, temperature=0.1)
    assert torch.equal(soft.predictions, sharp.predictions)
    assert (sharp.probabilities.max(1).values >= soft.probabilities.max(1).values).all()


@pytest.mark.parametrize("seed", range(3))
def test_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 5, size=50)
    p = np.where(rng.random(50) < 0.6, t, rng.integers(0, 6, size=50))  # 5 is never true
    got = classification_metrics(torch.from_numpy(t), torch.from_numpy(p))
    assert isinstance(got, ClassificationMetrics)
    assert got.accuracy == pytest.approx(accuracy_score(t, p))
    assert got.macro_f1 == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
    assert classification_metrics(t, p) == got  # numpy in, same out


def test_metrics_hand_made() -> None:
    # Class 0: TP 1, FP 1, FN 0 -> F1 2/3. Class 1: TP 1, FP 0, FN 1 -> F1 2/3.
    m = classification_metrics(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]))
    assert m.accuracy == pytest.approx(2 / 3)
    assert m.macro_f1 == pytest.approx(2 / 3)


@pytest.mark.parametrize("method", ["knn", "prototype"])
def test_classify_and_score_composes(method: str) -> None:
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(a) for a in _data(seed=8))
    got = classify_and_score(x_tr, y_tr, x_te, y_te, method, "euclidean", k=3)  # type: ignore[arg-type]
    pred = (
        knn_classify(x_tr, y_tr, x_te, 3)
        if method == "knn"
        else prototype_classify(x_tr, y_tr, x_te).predictions
    )
    assert got == classification_metrics(y_te, pred)
    assert 0.4 < got.accuracy < 1.0


def test_errors() -> None:
    x, y = torch.zeros(4, 2), torch.tensor([0, 0, 1, 1])
    with pytest.raises(
        ValueError, match=r"k must be between 1 and the number of training items \(4\), got 5"
    ):
        knn_classify(x, y, x, k=5)
    with pytest.raises(ValueError, match="k must be between"):
        knn_classify(x, y, x, k=0)
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        prototype_classify(x, y, x, temperature=0.0)
    with pytest.raises(
        ValueError, match=r"one label per training embedding \(4\); got shape \(3,\)"
    ):
        knn_classify(x, y[:3], x)
    with pytest.raises(ValueError, match="embeddings must be 2-D"):
        prototype_classify(x, y, torch.zeros(3))
    with pytest.raises(ValueError, match="unknown distance 'cosin'"):
        knn_classify(x, y, x, distance="cosin")
    with pytest.raises(ValueError, match="unknown classification method 'svm'; choose one of"):
        classify_and_score(x, y, x, y, "svm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"same length; got shapes \(3,\) and \(2,\)"):
        classification_metrics(torch.tensor([0, 1, 1]), torch.tensor([0, 1]))
