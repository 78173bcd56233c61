"""Calibration of a trained run: a decision threshold and a distance -> P(same) map.

The threshold is chosen either for a target false accept rate (the share of different-identity
pairs accepted) or for the best accuracy / F1 on calibration pairs; the probability map is
Platt scaling (a logistic regression on the distance) or isotonic regression. Both are fitted
on pairs of a *calibration* part of the chosen classes and checked on a disjoint *test* part,
so the reported rates are not the optimistic ones the threshold was picked on.

Thresholds are in the distance's own units: a pair is accepted as the same identity when its
distance is ``<= threshold`` (``>=`` for similarities, ``larger_is_closer=True``).

Example:
    >>> same = [1, 1, 1, 0, 0, 0]
    >>> distances = [0.1, 0.3, 0.6, 0.5, 0.8, 0.9]
    >>> thr = fit_threshold(same, distances, target_far=0.01)
    >>> thr  # halfway between the last accepted distance and the first different pair
    0.4
    >>> error_rates(same, distances, thr).far <= 0.01
    True
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_curve

from siamkit.run.calibration import (
    Rates,
    check_pairs,
)

OBJECTIVES = ("accuracy", "f1")
SPLITS = ("train", "test")

FloatArray = npt.NDArray[np.float64]


def _closeness(distances: FloatArray, larger_is_closer: bool) -> FloatArray:
    """Scores where larger is always closer (negation is exact, so thresholds map back)."""
    return distances if larger_is_closer else -distances


def fit_threshold(
    same: npt.ArrayLike,
    distances: npt.ArrayLike,
    larger_is_closer: bool = False,
    target_far: float | None = None,
    objective: str = "accuracy",
) -> float:
    """The decision threshold, in distance units, that best separates same from different pairs.

    With ``target_far``: the threshold accepting as many same pairs as possible while the false
    accept rate stays ``<= target_far``. Without: the threshold with the best ``accuracy`` or
    ``f1`` (positive class = same). Ties go to the stricter threshold; the threshold sits halfway
    between the last accepted value and the next one, so it accepts exactly those pairs.

    Args:
        same: ``(K,)`` 1 for a same-identity pair, 0 otherwise (both must occur).
        distances: ``(K,)`` pair distances (or similarities with ``larger_is_closer``).
        larger_is_closer: True for similarities: accept when ``value >= threshold``.
        target_far: Largest allowed false accept rate, in (0, 1).
        objective: ``accuracy`` or ``f1``; ignored with ``target_far``.

    Returns:
        The threshold: accept when ``distance <= threshold`` (``>=`` for similarities).

    Raises:
        ValueError: Bad inputs, or no threshold meets ``target_far`` on these pairs.

    Example:
        >>> fit_threshold([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
        0.5
    """
    _check_target(target_far, objective)
    s, d = check_pairs(same, distances)
    scores = _closeness(d, larger_is_closer)
    # One point per distinct score, decreasing; thr[0] = inf accepts nothing.
    fpr, tpr, thr = roc_curve(s, scores, drop_intermediate=False)
    n_pos, n_neg = int(s.sum()), int(len(s) - s.sum())
    tp, fp = np.rint(tpr * n_pos), np.rint(fpr * n_neg)  # accepted same / different pairs
    candidates = np.arange(1, len(thr))  # every threshold that accepts something
    if target_far is not None:
        feasible = candidates[fp[candidates] / n_neg <= target_far]
        if len(feasible) == 0:
            raise ValueError(
                f"no threshold keeps the false accept rate <= {target_far} on these pairs: the "
                f"closest pairs already include a different one ({n_neg} different pairs); use "
                "more pairs or a larger target_far"
            )
        best_tp = tp[feasible].max()
        k = int(feasible[tp[feasible] == best_tp][0])
    else:
        if objective == "accuracy":
            value = (tp + (n_neg - fp)) / len(s)
        else:  # f1 = 2TP / (2TP + FP + FN), FN = n_pos - TP
            value = 2.0 * tp / (tp + fp + n_pos)
        k = int(candidates[np.argmax(value[candidates])])
    t = _midpoint(float(thr[k]), float(thr[k + 1]) if k + 1 < len(thr) else None)
    return t if larger_is_closer else -t


def _midpoint(accepted: float, next_down: float | None) -> float:
    """A score between the last accepted value and the next lower one (accepting the first)."""
    if next_down is None:
        return accepted
    mid = 0.5 * (accepted + next_down)
    return mid if next_down < mid <= accepted else accepted


def _check_target(target_far: float | None, objective: str) -> None:
    if target_far is not None and not (math.isfinite(target_far) and 0.0 < target_far < 1.0):
        raise ValueError(f"target_far must be in (0, 1), e.g. 0.01; got {target_far}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective '{objective}'; choose one of: {', '.join(OBJECTIVES)}")


def error_rates(
    same: npt.ArrayLike,
    distances: npt.ArrayLike,
    threshold: float,
    larger_is_closer: bool = False,
) -> Rates:
    """FAR, FRR, TAR and accuracy of ``threshold`` on pairs.

    Args:
        same: ``(K,)`` 1 for a same-identity pair, 0 otherwise (both must occur).
        distances: ``(K,)`` pair distances (similarities with ``larger_is_closer``).
        threshold: Accept when ``distance <= threshold`` (``>=`` for similarities).
        larger_is_closer: True for similarities.

    Example:
        >>> error_rates([1, 1, 0, 0], [0.1, 0.6, 0.4, 0.9], 0.5)
        Rates(far=0.5, frr=0.5, tar=0.5, accuracy=0.5)
    """
    s, d = check_pairs(same, distances)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}")
    accept = d >= threshold if larger_is_closer else d <= threshold
    far = float(accept[s == 0].mean())
    frr = float((~accept[s == 1]).mean())
    return Rates(far=far, frr=frr, tar=1.0 - frr, accuracy=float((accept == (s == 1)).mean()))
