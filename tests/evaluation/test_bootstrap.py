"""The percentile bootstrap agrees with scipy's on a plain statistic, and skips NaN resamples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from siamkit.evaluation.bootstrap import bootstrap_interval


def test_the_interval_of_a_mean_matches_scipy() -> None:
    x = np.random.default_rng(1).exponential(size=300)
    lo, hi = bootstrap_interval(lambda i: np.array([x[i].mean()]), len(x), n_boot=4000, seed=0)
    ref = stats.bootstrap(
        (x,), np.mean, n_resamples=4000, confidence_level=0.95, method="percentile",
        random_state=np.random.default_rng(0),
    ).confidence_interval  # fmt: skip
    se = x.std() / np.sqrt(len(x))  # Monte Carlo error of each bound is a small part of this
    assert lo[0] == pytest.approx(ref.low, abs=0.1 * se)
    assert hi[0] == pytest.approx(ref.high, abs=0.1 * se)


def test_a_statistic_undefined_on_some_resamples_still_has_an_interval() -> None:
    y = np.array([0] * 3 + [1] * 3)

    def stat(i: np.ndarray) -> np.ndarray:  # NaN when a resample holds one class only
        return np.array([y[i].mean() if 0 < y[i].sum() < len(i) else np.nan])

    lo, hi = bootstrap_interval(stat, len(y), n_boot=500, seed=0)
    assert np.isfinite(lo[0]) and np.isfinite(hi[0]) and 0 < lo[0] <= hi[0] < 1
