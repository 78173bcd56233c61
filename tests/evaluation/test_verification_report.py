"""TAR@FAR, F1, FAR/FRR at a threshold and their bootstrap intervals, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from siamkit.evaluation.bootstrap import bootstrap_interval
from siamkit.evaluation.verification import best_f1, tar_at_far, verification_report


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    same = rng.integers(0, 2, n)
    return same, rng.normal(same * 1.2, 1.0)  # continuous: no ties


def _brute_tar(same: np.ndarray, scores: np.ndarray, far: float) -> float:
    best = 0.0
    for t in np.concatenate([scores, [np.inf]]):
        accept = scores >= t
        if accept[same == 0].mean() <= far:
            best = max(best, accept[same == 1].mean())
    return float(best)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("far", [0.3, 0.1, 0.01])
def test_tar_at_far_matches_threshold_sweep(seed: int, far: float) -> None:
    same, scores = _data(seed=seed)
    assert tar_at_far(same, scores, far) == pytest.approx(_brute_tar(same, scores, far))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_f1_matches_sklearn_sweep(seed: int) -> None:
    same, scores = _data(seed=seed)
    brute = max(f1_score(same, (scores >= t).astype(int)) for t in scores)
    assert best_f1(same, scores) == pytest.approx(brute)


def test_report_values_and_threshold_rates() -> None:
    same, scores = _data(1000)
    thr = 0.6
    r = verification_report(same, scores, threshold=thr, n_boot=50)
    assert r.roc_auc.value == pytest.approx(roc_auc_score(same, scores))
    accept = scores >= thr
    assert r.far is not None and r.frr is not None and r.accuracy_at_threshold is not None
    assert r.far.value == pytest.approx(accept[same == 0].mean())
    assert r.frr.value == pytest.approx(1 - accept[same == 1].mean())
    assert r.accuracy_at_threshold.value == pytest.approx((accept == (same == 1)).mean())
    for far, est in r.tar_at_far.items():
        assert est.value == pytest.approx(_brute_tar(same, scores, far))
    for est in (r.roc_auc, r.eer, r.best_accuracy, r.best_f1, r.far, r.frr):
        assert est.low <= est.value + 1e-9 and est.value - 1e-9 <= est.high
    d = r.as_dict()
    assert set(d) >= {"roc_auc", "eer", "tar_at_far_0.01", "far", "frr", "threshold"}


def test_report_without_threshold_or_bootstrap() -> None:
    same, scores = _data()
    r = verification_report(same, scores, n_boot=0)
    assert r.far is None and r.threshold is None
    assert r.roc_auc.low == r.roc_auc.value == r.roc_auc.high


def test_bootstrap_interval_of_a_mean_matches_normal_theory() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, 2000)
    lo, hi = bootstrap_interval(lambda i: np.array([x[i].mean()]), len(x), n_boot=1000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))  # the textbook interval
    assert lo[0] == pytest.approx(x.mean() - half, abs=0.25 * half)
    assert hi[0] == pytest.approx(x.mean() + half, abs=0.25 * half)


def test_bootstrap_is_reproducible_and_validates() -> None:
    x = np.arange(50.0)
    a = bootstrap_interval(lambda i: np.array([x[i].mean()]), 50, seed=3)
    b = bootstrap_interval(lambda i: np.array([x[i].mean()]), 50, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(lambda i: x[i][:1], 50, level=1.5)


def test_report_rejects_bad_scores() -> None:
    same, scores = _data()
    scores[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        verification_report(same, scores)
