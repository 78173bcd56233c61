"""verification_metrics against scikit-learn and brute-force threshold sweeps."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from siamkit.evaluation import VerificationMetrics, verification_metrics


def _far_frr(same: np.ndarray, scores: np.ndarray, t: float) -> tuple[float, float]:
    """False accept rate and false reject rate when 'same' means score >= t."""
    accept = scores >= t
    far = float(accept[same == 0].mean())
    frr = float((~accept[same == 1]).mean())
    return far, frr


def _brute_eer_bracket(same: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(FRR, FAR) at the first threshold, sweeping down from the top, where FRR <= FAR.

    Above that threshold FRR > FAR; the curves cross between that point and the one before,
    so the equal error rate lies between FRR and FAR there.
    """
    for t in sorted(set(scores.tolist()), reverse=True):
        far, frr = _far_frr(same, scores, t)
        if frr <= far:
            return frr, far
    raise AssertionError("FRR never reaches FAR")


def _brute_best_accuracy(same: np.ndarray, scores: np.ndarray) -> float:
    return max(float(((scores >= t) == (same == 1)).mean()) for t in set(scores.tolist()))


def _random_case(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    same = rng.integers(0, 2, size=n)
    same[0], same[1] = 0, 1  # both classes present
    scores = rng.normal(size=n) + 1.2 * same  # informative but overlapping
    if ties:
        scores = np.round(scores, 1)
    return same, scores


CASES = [(seed, n, ties) for seed in range(6) for n in (20, 101) for ties in (False, True)]


@pytest.mark.parametrize(("seed", "n", "ties"), CASES)
def test_roc_auc_matches_sklearn(seed: int, n: int, ties: bool) -> None:
    same, scores = _random_case(seed, n, ties)
    got = verification_metrics(same, scores)
    assert isinstance(got, VerificationMetrics)
    assert got.roc_auc == pytest.approx(roc_auc_score(same, scores), abs=1e-12)


@pytest.mark.parametrize(("seed", "n", "ties"), CASES)
def test_eer_lies_at_the_brute_force_crossing(seed: int, n: int, ties: bool) -> None:
    same, scores = _random_case(seed, n, ties)
    got = verification_metrics(same, scores)
    frr, far = _brute_eer_bracket(same, scores)
    tol = 1.0 / n
    assert frr - tol <= got.eer <= far + tol


@pytest.mark.parametrize(("seed", "n"), [(seed, n) for seed, n, ties in CASES if not ties])
def test_eer_threshold_gives_far_or_frr_at_the_eer(seed: int, n: int) -> None:
    # Without tied scores, at the EER threshold one of FAR and FRR is within one step of the
    # EER (with ties a whole tie group moves at once, so no threshold need come close).
    same, scores = _random_case(seed, n, ties=False)
    got = verification_metrics(same, scores)
    far_t, frr_t = _far_frr(same, scores, got.eer_threshold)
    n_pos, n_neg = int(same.sum()), int(len(same) - same.sum())
    assert abs(far_t - got.eer) <= 1.0 / n_neg + 1e-12 or abs(frr_t - got.eer) <= 1.0 / n_pos


@pytest.mark.parametrize(("seed", "n", "ties"), CASES)
def test_best_accuracy_matches_brute_force_sweep(seed: int, n: int, ties: bool) -> None:
    same, scores = _random_case(seed, n, ties)
    got = verification_metrics(same, scores)
    assert got.best_accuracy == pytest.approx(_brute_best_accuracy(same, scores), abs=1e-12)
    # and the reported threshold achieves it
    at_threshold = float(((scores >= got.best_threshold) == (same == 1)).mean())
    assert at_threshold == pytest.approx(got.best_accuracy, abs=1e-12)


def test_hand_worked_four_pairs() -> None:
    # same=[1,1,0,0], scores=[0.9,0.4,0.6,0.1]
    # AUC: of the 4 (same, different) score pairs, 3 are ordered right -> 0.75
    # t=0.6: FAR = 1/2 (0.6 accepted), FRR = 1/2 (0.4 rejected) -> EER = 0.5
    # accuracy: t=0.9 -> 3/4, t=0.6 -> 2/4, t=0.4 -> 3/4, t=0.1 -> 2/4 -> best 0.75
    got = verification_metrics(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1]))
    assert got.roc_auc == pytest.approx(0.75)
    assert got.eer == pytest.approx(0.5)
    assert got.best_accuracy == pytest.approx(0.75)
    assert got.best_threshold in (0.9, 0.4)


def test_hand_worked_eer_with_interpolation() -> None:
    # same=[1,0,1,0], scores=[4,3,2,1]. Sweeping down:
    #   t=4: FAR 0,   FRR 1/2
    #   t=3: FAR 1/2, FRR 1/2  -> EER 0.5 exactly at t=3
    got = verification_metrics(np.array([1, 0, 1, 0]), np.array([4.0, 3.0, 2.0, 1.0]))
    assert got.eer == pytest.approx(0.5)
    assert got.roc_auc == pytest.approx(0.75)


@pytest.mark.parametrize("seed", range(3))
def test_perfectly_separable_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    same = np.array([1] * 7 + [0] * 9)
    scores = np.where(same == 1, rng.uniform(1.0, 2.0, 16), rng.uniform(-2.0, 0.5, 16))
    perm = rng.permutation(16)
    got = verification_metrics(same[perm], scores[perm])
    assert got.roc_auc == 1.0
    assert got.eer == pytest.approx(0.0, abs=1e-12)
    assert got.best_accuracy == 1.0
    assert 0.5 < got.best_threshold <= scores[same == 1].min()


def test_perfectly_wrong_scores() -> None:
    same = np.array([1, 1, 1, 0, 0, 0])
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    got = verification_metrics(same, scores)
    assert got.roc_auc == 0.0
    assert got.eer == pytest.approx(1.0)


def test_accepts_bool_and_list_inputs() -> None:
    same, scores = _random_case(7, 30, ties=False)
    want = verification_metrics(same, scores)
    assert verification_metrics(same.astype(bool), scores) == want
    assert verification_metrics(same.tolist(), scores.tolist()) == want


@pytest.mark.parametrize("same", [[1, 1, 1], [0, 0, 0]])
def test_single_class_raises(same: list[int]) -> None:
    with pytest.raises(ValueError, match="both"):
        verification_metrics(np.array(same), np.array([0.1, 0.5, 0.9]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_raise(bad: float) -> None:
    with pytest.raises(ValueError, match="NaN"):
        verification_metrics(np.array([1, 0, 1]), np.array([0.3, bad, 0.2]))
