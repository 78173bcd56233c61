"""Properties of the decision rule and the calibration on random pairs.

``accepts`` is the plain comparison; the probability map gives probabilities in [0, 1],
monotone in closeness, and survives ``to_dict`` / JSON / ``from_dict``; ``fit_threshold``
meets its target false accept rate and is as good as a brute-force search over every
candidate threshold.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from siamkit.evaluation.calibration import error_rates, fit_threshold
from siamkit.run import DecisionRule, ProbabilityMap, accepts

# Distances on a coarse grid (ties) or anywhere in a wide range.
distance_values = st.one_of(
    st.integers(0, 12).map(lambda v: v / 4),
    st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
)


@st.composite
def labelled_pairs(draw: st.DrawFn, min_size: int = 2) -> tuple[list[int], list[float]]:
    """``same`` (both 0 and 1 occur) and ``distances``, of one length."""
    n = draw(st.integers(min_size, 30))
    same = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    assume(0 < sum(same) < n)
    distances = draw(st.lists(distance_values, min_size=n, max_size=n))
    return same, distances


@given(
    distances=st.lists(st.floats(allow_nan=True), max_size=20),
    threshold=st.floats(allow_nan=False, allow_infinity=False),
    larger=st.booleans(),
)
def test_accepts_is_the_plain_comparison(
    distances: list[float], threshold: float, larger: bool
) -> None:
    got = accepts(distances, threshold, larger)
    want = [(d >= threshold) if larger else (d <= threshold) for d in distances]
    assert got.dtype == np.bool_ and got.tolist() == want
    rule = DecisionRule("euclidean", threshold, larger, None)
    assert rule.same(distances).tolist() == want
    assert rule.probability(distances) is None


@given(threshold=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_a_decision_rule_refuses_a_threshold_that_is_not_finite(threshold: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        DecisionRule("euclidean", threshold, False, None)


@settings(max_examples=20)
@given(
    pairs=labelled_pairs(),
    method=st.sampled_from(["platt", "isotonic"]),
    larger=st.booleans(),
    queries=st.lists(st.floats(-2e3, 2e3), min_size=1, max_size=20),
)
def test_probability_map_is_a_probability_and_round_trips(
    pairs: tuple[list[int], list[float]], method: str, larger: bool, queries: list[float]
) -> None:
    same, distances = pairs
    pm = ProbabilityMap.fit(same, distances, method=method, larger_is_closer=larger)
    prob = pm.predict(queries)
    assert prob.shape == (len(queries),)
    assert bool(((prob >= 0.0) & (prob <= 1.0)).all())
    back = ProbabilityMap.from_dict(json.loads(json.dumps(pm.to_dict())))
    assert back == pm
    np.testing.assert_array_equal(back.predict(queries), prob)
    rule = DecisionRule("euclidean", 0.5, larger, pm)
    np.testing.assert_array_equal(rule.probability(queries), prob)
    # monotone: isotonic in closeness by construction; Platt in the direction it was fitted
    order = np.argsort(queries, kind="stable")
    ordered = prob[order]  # by increasing value
    steps = np.diff(ordered)
    if method == "isotonic":
        assert bool((steps >= 0).all() if larger else (steps <= 0).all())
    elif pm.coef <= 0:
        assert bool((steps <= 0).all())
    else:
        assert bool((steps >= 0).all())


@settings(max_examples=20)
@given(
    n_same=st.integers(1, 15),
    n_diff=st.integers(1, 15),
    gap=st.floats(0.5, 10.0),
    larger=st.booleans(),
    data=st.data(),
)
def test_probability_is_monotone_in_closeness_when_same_pairs_are_closer(
    n_same: int, n_diff: int, gap: float, larger: bool, data: st.DataObject
) -> None:
    """Same pairs all closer than different ones: P(same) never rises as pairs move apart."""
    near = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n_same, max_size=n_same))
    far = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n_diff, max_size=n_diff))
    d = np.array([*near, *(1.0 + gap + v for v in far)])  # distances
    same = [1] * n_same + [0] * n_diff
    values = -d if larger else d
    grid = np.linspace(-1.0, 3.0 + gap, 50)  # increasing distance
    for method in ("platt", "isotonic"):
        pm = ProbabilityMap.fit(same, values, method=method, larger_is_closer=larger)
        prob = pm.predict(-grid if larger else grid)
        assert bool((np.diff(prob) <= 1e-12).all()), method


def _brute_force(
    same: list[int], distances: list[float]
) -> list[tuple[float, float, float, float]]:
    """(far, tar, accuracy, f1) of every candidate threshold: each distinct distance."""
    out = []
    n_pos, n_neg = sum(same), len(same) - sum(same)
    for t in sorted(set(distances)):
        tp = sum(1 for s, d in zip(same, distances) if s == 1 and d <= t)
        fp = sum(1 for s, d in zip(same, distances) if s == 0 and d <= t)
        accuracy = (tp + n_neg - fp) / len(same)
        f1 = 2 * tp / (2 * tp + fp + (n_pos - tp))
        out.append((fp / n_neg, tp / n_pos, accuracy, f1))
    return out


def _accepted(distances: list[float], threshold: float, larger: bool) -> list[bool]:
    return accepts(distances, threshold, larger).tolist()


@settings(max_examples=40)
@given(pairs=labelled_pairs(), target=st.floats(0.01, 0.99), larger=st.booleans())
def test_fit_threshold_meets_the_target_far_as_well_as_brute_force(
    pairs: tuple[list[int], list[float]], target: float, larger: bool
) -> None:
    same, distances = pairs
    best = _brute_force(same, distances)
    feasible = [tar for far, tar, _, _ in best if far <= target]
    values = [-d for d in distances] if larger else distances
    if not feasible:
        with pytest.raises(ValueError, match="false accept rate"):
            fit_threshold(same, values, larger, target_far=target)
        return
    t = fit_threshold(same, values, larger, target_far=target)
    rates = error_rates(same, values, t, larger)
    assert rates.far <= target
    assert rates.tar == pytest.approx(max(feasible), abs=1e-12)
    # the threshold accepts exactly the pairs at or below some observed distance
    accepted = _accepted(values, t, larger)
    last = max(d for d, a in zip(distances, accepted) if a)
    assert accepted == [d <= last for d in distances]


@settings(max_examples=40)
@given(pairs=labelled_pairs(), objective=st.sampled_from(["accuracy", "f1"]), larger=st.booleans())
def test_fit_threshold_objective_is_as_good_as_brute_force(
    pairs: tuple[list[int], list[float]], objective: str, larger: bool
) -> None:
    same, distances = pairs
    best = max(
        acc if objective == "accuracy" else f1 for _, _, acc, f1 in _brute_force(same, distances)
    )
    values = [-d for d in distances] if larger else distances
    t = fit_threshold(same, values, larger, objective=objective)
    assert math.isfinite(t)
    rates = error_rates(same, values, t, larger)
    if objective == "accuracy":
        assert rates.accuracy == pytest.approx(best, abs=1e-12)
    else:
        accepted = _accepted(values, t, larger)
        tp = sum(1 for s, a in zip(same, accepted) if s and a)
        fp = sum(1 for s, a in zip(same, accepted) if not s and a)
        assert 2 * tp / (2 * tp + fp + (sum(same) - tp)) == pytest.approx(best, abs=1e-12)
