"""Percentile bootstrap confidence intervals (Efron & Tibshirani, 1993).

Kept beside ``scipy.stats.bootstrap`` on purpose: here one resample of *item indices* feeds a
whole vector of statistics at once (ROC-AUC, EER, TAR@FAR of the same pairs share every
resample, so the suite pays for each resample once), and a statistic undefined on a resample
(NaN, e.g. a resample with one class) is skipped instead of turning the interval into NaN.
On a plain statistic it agrees with scipy's percentile interval (``tests/evaluation/
test_bootstrap.py`` checks it against ``scipy.stats.bootstrap``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from siamkit.progress import task


def bootstrap_interval(
    statistic: Callable[[np.ndarray], np.ndarray],
    n: int,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of a vector of statistics over ``n`` resampled items.

    Args:
        statistic: Maps an index array ``(n,)`` (drawn with replacement) to a vector ``(S,)`` of
            statistics; NaN entries (a statistic undefined on that resample) are ignored.
        n: Number of items to resample.
        n_boot: Bootstrap resamples.
        level: Coverage, e.g. 0.95.
        seed: Same seed, same interval.

    Returns:
        ``(low, high)``, each ``(S,)``.

    Example:
        >>> x = np.arange(100.0)
        >>> lo, hi = bootstrap_interval(lambda i: np.array([x[i].mean()]), 100)
        >>> bool(lo[0] < 49.5 < hi[0])
        True
    """
    if n < 1:
        raise ValueError("bootstrap needs at least one item")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    rounds = []
    with task("bootstrap intervals", total=n_boot) as advance:
        for _ in range(n_boot):
            rounds.append(statistic(rng.integers(0, n, n)))
            advance(1)
    stats = np.stack(rounds)  # (B, S)
    alpha = (1.0 - level) / 2.0
    low = np.nanquantile(stats, alpha, axis=0)
    high = np.nanquantile(stats, 1.0 - alpha, axis=0)
    return low, high
