"""Calibration: thresholds against known distributions and brute-force sweeps, probability
maps against scikit-learn, and calibrate_run on a tiny trained run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from siamkit.data import load_data, parse_classes, sample_pairs
from siamkit.evaluation import embed_all
from siamkit.evaluation.calibrated_run import calibrate_run, fit_calibration
from siamkit.evaluation.calibration import error_rates, fit_threshold
from siamkit.run import Calibration, ProbabilityMap, Rates
from siamkit.training import load_run, train

from conftest import tiny_config

# --- thresholds on distributions whose right answer is known ---------------------------------


def _two_groups(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    same = np.r_[np.ones(len(genuine), dtype=int), np.zeros(len(impostor), dtype=int)]
    return same, np.r_[genuine, impostor]


def test_accuracy_threshold_of_equal_gaussians_is_the_midpoint() -> None:
    # Equal variances and priors: the Bayes (accuracy-optimal) threshold is (1 + 3) / 2 = 2.
    rng = np.random.default_rng(0)
    same, d = _two_groups(rng.normal(1.0, 0.5, 20_000), rng.normal(3.0, 0.5, 20_000))
    assert fit_threshold(same, d) == pytest.approx(2.0, abs=0.1)
    # The same values as similarities (larger = closer) give the mirrored threshold.
    assert fit_threshold(same, -d, larger_is_closer=True) == pytest.approx(
        -fit_threshold(same, d), abs=1e-12
    )


def test_far_threshold_is_the_impostor_quantile() -> None:
    # Impostors uniform on [1, 2]: FAR(t) = t - 1, so FAR 0.1 needs t = 1.1. Genuine pairs
    # spread past 1.1, so loosening up to that point still gains genuine accepts.
    rng = np.random.default_rng(1)
    same, d = _two_groups(rng.uniform(0.0, 1.5, 20_000), rng.uniform(1.0, 2.0, 20_000))
    thr = fit_threshold(same, d, target_far=0.1)
    assert thr == pytest.approx(1.1, abs=0.01)
    assert error_rates(same, d, thr).far <= 0.1


def test_far_threshold_does_not_accept_impostors_for_nothing() -> None:
    # Genuine all below 1.05: past that no genuine pair is gained, so the threshold stops there
    # instead of going on to the FAR limit of 1.1.
    rng = np.random.default_rng(2)
    same, d = _two_groups(rng.uniform(0.0, 1.05, 5_000), rng.uniform(1.0, 2.0, 5_000))
    thr = fit_threshold(same, d, target_far=0.1)
    assert error_rates(same, d, thr).tar == 1.0
    assert thr == pytest.approx(1.05, abs=0.01)


def test_hand_worked_threshold_sits_between_the_groups() -> None:
    assert fit_threshold([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(0.5)
    # FAR <= 0.4 with 2 impostors allows none: accept 0.1 only (0.5 is an impostor).
    assert fit_threshold([1, 0, 1, 0], [0.1, 0.5, 0.6, 0.9], target_far=0.4) == pytest.approx(0.3)
    # FAR exactly at the target is allowed: 1 of 5 impostors (0.2) for target 0.2, so accept
    # up to 0.3 (TAR 2/3); the next value, 0.4, would be a second impostor.
    same, d = [1, 0, 1, 0, 1, 0, 0, 0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert fit_threshold(same, d, target_far=0.2) == pytest.approx(0.35)


# --- brute-force sweeps on small random data --------------------------------------------------


def _random_case(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    same = rng.integers(0, 2, size=n)
    same[0], same[1] = 0, 1
    d = rng.normal(size=n) + 1.0 * (1 - same)  # different pairs farther, overlapping
    return same, (np.round(d, 1) if ties else d)


def _candidates(d: np.ndarray) -> list[float]:
    """Every distinct decision: accept d <= v for each observed value v."""
    return sorted(set(d.tolist()))


def _accept(d: np.ndarray, t: float, larger_is_closer: bool) -> np.ndarray:
    return d >= t if larger_is_closer else d <= t


def _score(same: np.ndarray, accept: np.ndarray, objective: str) -> float:
    if objective == "accuracy":
        return float((accept == (same == 1)).mean())
    tp = int((accept & (same == 1)).sum())
    fp = int((accept & (same == 0)).sum())
    fn = int((~accept & (same == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn)


CASES = [
    (seed, n, ties, lic)
    for seed in range(5)
    for n in (12, 60)
    for ties in (False, True)
    for lic in (False, True)
]


@pytest.mark.parametrize(("seed", "n", "ties", "larger_is_closer"), CASES)
@pytest.mark.parametrize("objective", ["accuracy", "f1"])
def test_objective_matches_brute_force(
    seed: int, n: int, ties: bool, larger_is_closer: bool, objective: str
) -> None:
    same, d = _random_case(seed, n, ties)
    values = -d if larger_is_closer else d
    best = max(
        _score(same, _accept(values, t, larger_is_closer), objective) for t in _candidates(values)
    )
    thr = fit_threshold(same, values, larger_is_closer, objective=objective)
    got = _score(same, _accept(values, thr, larger_is_closer), objective)
    assert got == pytest.approx(best, abs=1e-12)
    if objective == "f1":
        accept = _accept(values, thr, larger_is_closer)
        assert got == pytest.approx(f1_score(same, accept.astype(int)), abs=1e-12)


@pytest.mark.parametrize(("seed", "n", "ties", "larger_is_closer"), CASES)
@pytest.mark.parametrize("target_far", [0.05, 0.2, 0.5])
def test_far_constraint_matches_brute_force(
    seed: int, n: int, ties: bool, larger_is_closer: bool, target_far: float
) -> None:
    same, d = _random_case(seed, n, ties)
    values = -d if larger_is_closer else d
    feasible = []
    for t in _candidates(values):
        r = error_rates(same, values, t, larger_is_closer)
        if r.far <= target_far:
            feasible.append(r)
    if not feasible:
        with pytest.raises(ValueError, match="no threshold keeps"):
            fit_threshold(same, values, larger_is_closer, target_far=target_far)
        return
    best_tar = max(r.tar for r in feasible)
    least_far = min(r.far for r in feasible if r.tar == best_tar)
    thr = fit_threshold(same, values, larger_is_closer, target_far=target_far)
    got = error_rates(same, values, thr, larger_is_closer)
    assert got.far <= target_far
    assert got.tar == pytest.approx(best_tar, abs=1e-12)
    assert got.far == pytest.approx(least_far, abs=1e-12)


def test_error_rates_hand_worked() -> None:
    # distances [0.1, 0.6, 0.4, 0.9], same [1, 1, 0, 0], threshold 0.5:
    # accepted 0.1 (same, right), 0.4 (different: false accept); rejected 0.6 (false reject).
    r = error_rates([1, 1, 0, 0], [0.1, 0.6, 0.4, 0.9], 0.5)
    assert r == Rates(far=0.5, frr=0.5, tar=0.5, accuracy=0.5)
    # A similarity at the same cut flips which side is accepted.
    r = error_rates([1, 1, 0, 0], [0.1, 0.6, 0.4, 0.9], 0.5, larger_is_closer=True)
    assert r == Rates(far=0.5, frr=0.5, tar=0.5, accuracy=0.5)
    # Ties at the threshold are accepted.
    assert error_rates([1, 0], [0.5, 0.7], 0.5).tar == 1.0


# --- bad inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("same", "d", "kwargs", "match"),
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], {}, "both same and different"),
        ([0, 0], [0.1, 0.2], {}, "both same and different"),
        ([1, 0, 2], [0.1, 0.2, 0.3], {}, "only 0"),
        ([1, 0], [0.1, 0.2, 0.3], {}, "equal length"),
        ([1, 0], [0.1, np.nan], {}, "NaN"),
        ([1, 0], [np.inf, 0.2], {}, "NaN"),
        ([1, 0], [0.1, 0.2], {"target_far": 0.0}, r"target_far must be in \(0, 1\)"),
        ([1, 0], [0.1, 0.2], {"target_far": 1.0}, r"target_far must be in \(0, 1\)"),
        ([1, 0], [0.1, 0.2], {"target_far": float("nan")}, "target_far"),
        ([1, 0], [0.1, 0.2], {"objective": "auc"}, "unknown objective 'auc'; choose one of"),
        ([0, 1], [0.1, 0.2], {"target_far": 0.1}, "no threshold keeps"),
    ],
)
def test_fit_threshold_rejects_bad_input(
    same: list[int], d: list[float], kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        fit_threshold(same, d, **kwargs)  # type: ignore[arg-type]


def test_error_rates_rejects_non_finite_threshold() -> None:
    with pytest.raises(ValueError, match="finite"):
        error_rates([1, 0], [0.1, 0.2], float("nan"))


# --- probability maps ----------------------------------------------------------------------


def _overlapping(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    same, d = _two_groups(rng.normal(0.8, 0.3, n), rng.normal(1.4, 0.3, n))
    return same, np.abs(d)


@pytest.mark.parametrize("seed", range(3))
def test_platt_matches_sklearn_logistic_regression(seed: int) -> None:
    same, d = _overlapping(seed)
    pm = ProbabilityMap.fit(same, d, "platt")
    ref = LogisticRegression().fit(d.reshape(-1, 1), same)
    grid = np.linspace(-1.0, 3.0, 101)
    want = ref.predict_proba(grid.reshape(-1, 1))[:, 1]
    np.testing.assert_allclose(pm.predict(grid), want, rtol=0, atol=1e-12)
    assert np.all(np.diff(pm.predict(grid)) < 0)  # farther, less likely the same


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("larger_is_closer", [False, True])
def test_isotonic_matches_sklearn_and_is_monotone(seed: int, larger_is_closer: bool) -> None:
    same, d = _overlapping(seed)
    values = -d if larger_is_closer else d
    pm = ProbabilityMap.fit(same, values, "isotonic", larger_is_closer)
    ref = IsotonicRegression(increasing=larger_is_closer, out_of_bounds="clip").fit(values, same)
    grid = np.linspace(values.min() - 1.0, values.max() + 1.0, 301)  # includes out of range
    np.testing.assert_allclose(pm.predict(grid), ref.predict(grid), rtol=0, atol=1e-12)
    steps = np.diff(pm.predict(grid))
    assert np.all(steps >= 0) if larger_is_closer else np.all(steps <= 0)
    assert pm.predict(grid).min() >= 0.0 and pm.predict(grid).max() <= 1.0


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_probability_map_json_round_trip(method: str) -> None:
    same, d = _overlapping(5)
    pm = ProbabilityMap.fit(same, d, method)
    back = ProbabilityMap.from_dict(json.loads(json.dumps(pm.to_dict())))
    grid = np.linspace(-0.5, 2.5, 77)
    assert back == pm
    np.testing.assert_array_equal(back.predict(grid), pm.predict(grid))
    assert pm.predict(np.array([[0.5, 1.0]])).shape == (1, 2)


@pytest.mark.parametrize(
    ("d", "match"),
    [
        ({"method": "beta"}, "unknown method 'beta'"),
        ({"method": "platt", "coef": 1.0}, "malformed platt"),
        ({"method": "isotonic", "x_thresholds": [0.0, 1.0], "y_thresholds": [1.0]}, "as long"),
        ({"method": "isotonic", "x_thresholds": [1.0, 0.0], "y_thresholds": [1, 0]}, "sorted"),
        ([1, 2], "JSON object"),
    ],
)
def test_probability_map_from_dict_rejects_malformed(d: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ProbabilityMap.from_dict(d)  # type: ignore[arg-type]


def test_probability_map_rejects_unknown_method_and_nan() -> None:
    with pytest.raises(ValueError, match="unknown method 'sigmoid'; choose one of: platt"):
        ProbabilityMap.fit([1, 0], [0.1, 0.2], "sigmoid")
    pm = ProbabilityMap.fit([1, 0, 1, 0], [0.1, 0.9, 0.2, 0.8])
    with pytest.raises(ValueError, match="NaN"):
        pm.predict([np.nan])


# --- Calibration records -----------------------------------------------------------------------


def test_fit_calibration_save_load_round_trip(tmp_path: Path) -> None:
    same, d = _overlapping(7)
    test_same, test_d = _overlapping(8)
    cal = fit_calibration(
        same, d, target_far=0.1, method="isotonic", test_same=test_same, test_distances=test_d
    )
    assert cal.objective is None and cal.target_far == 0.1
    assert cal.calibration_rates == error_rates(same, d, cal.threshold)
    assert cal.test_rates == error_rates(test_same, test_d, cal.threshold)
    np.testing.assert_array_equal(cal.accept(d), d <= cal.threshold)
    assert Calibration.load(tmp_path) is None
    path = cal.save(tmp_path)
    assert (
        path == tmp_path / "calibration.json" and not (tmp_path / "calibration.json.tmp").exists()
    )
    back = Calibration.load(tmp_path)
    assert back == cal


def test_load_rejects_a_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text('{"version": 1, "threshold": 0.5}')
    with pytest.raises(ValueError, match=r"malformed.*siamkit calibrate"):
        Calibration.load(tmp_path)
    (tmp_path / "calibration.json").write_text("{not json")
    with pytest.raises(ValueError, match="malformed"):
        Calibration.load(tmp_path)


# --- calibrate_run on a tiny trained run ---------------------------------------------------------

NUM_PAIRS = 4000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-epoch digits run (train 0-4, eval 5-9) used only by this module's tests."""
    out = tmp_path_factory.mktemp("calibration") / "run"
    train(tiny_config(out, epochs=1), progress=False)
    return out


def _pairs_of(run_dir: Path, class_names: list[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Independently: embed the named digits classes and draw the part's pairs."""
    run = load_run(run_dir)
    full = load_data("digits")
    part = full.of_classes(parse_classes(",".join(class_names), full.class_names))
    emb = embed_all(run.model, part.x)
    pairs = sample_pairs(part.y, NUM_PAIRS, 0.5, seed)
    d = run.model.distance.pairwise(emb[pairs.first], emb[pairs.second]).double().numpy()
    return (1 - pairs.label).numpy(), d


def test_calibrate_run_meets_target_far_and_reports_test_rates(run_dir: Path) -> None:
    cal = calibrate_run(run_dir, None, None, target_far=0.05, num_pairs=NUM_PAIRS)
    assert (run_dir / "calibration.json").is_file()
    assert Calibration.load(run_dir) == cal
    src = cal.source
    assert src is not None and src.split_by == "class"
    # Only training classes by default, split into disjoint parts of 2+ classes each.
    assert set(src.calibration_classes) | set(src.test_classes) == {"0", "1", "2", "3", "4"}
    assert not set(src.calibration_classes) & set(src.test_classes)
    assert min(len(src.calibration_classes), len(src.test_classes)) >= 2
    assert src.eval_classes_used == []
    n_neg = NUM_PAIRS - round(NUM_PAIRS * 0.5)
    assert cal.calibration_rates.far <= 0.05 + 1.0 / n_neg
    assert cal.target_far == 0.05 and cal.distance == "euclidean" and not cal.larger_is_closer
    # Reported rates equal ones recomputed from scratch on each part's pairs.
    same, d = _pairs_of(run_dir, src.calibration_classes, seed=0)
    assert cal.calibration_rates == pytest.approx(error_rates(same, d, cal.threshold), abs=1e-12)
    test_same, test_d = _pairs_of(run_dir, src.test_classes, seed=1)
    assert cal.test_rates == pytest.approx(error_rates(test_same, test_d, cal.threshold), abs=1e-12)


def test_calibrate_run_by_items_with_two_classes(run_dir: Path) -> None:
    cal = calibrate_run(run_dir, None, "0,1", objective="f1", method="isotonic", num_pairs=500)
    src = cal.source
    assert src is not None and src.split_by == "item"
    assert src.calibration_classes == src.test_classes == ["0", "1"]
    n_items = int(torch.isin(load_data("digits").y, torch.tensor([0, 1])).sum())
    assert src.calibration_items + src.test_items == n_items
    assert cal.objective == "f1" and cal.probability_map.method == "isotonic"
    assert cal.test_rates is not None


def test_calibrate_run_records_evaluation_classes_when_named(run_dir: Path) -> None:
    cal = calibrate_run(run_dir, None, "all", num_pairs=500, test_fraction=0.0)
    assert cal.source is not None and cal.source.eval_classes_used == ["5", "6", "7", "8", "9"]
    assert cal.test_rates is None and cal.source.split_by == "none"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"classes": "3"}, "at least 2 classes"),
        ({"data": "csv:/nonexistent.csv"}, "name the classes"),
        ({"objective": "auc"}, "unknown objective"),
        ({"method": "beta"}, "unknown method"),
        ({"target_far": 1.5}, "target_far"),
        ({"split": "val"}, "unknown split"),
        ({"num_pairs": 1}, "num_pairs"),
        ({"test_fraction": 1.0}, "test_fraction"),
    ],
)
def test_calibrate_run_rejects_bad_settings(
    run_dir: Path, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        calibrate_run(run_dir, **kwargs)  # type: ignore[arg-type]


def test_calibrate_run_rejects_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a finished siamkit run"):
        calibrate_run(tmp_path, target_far=0.05)
