"""Calibration of a trained run: a decision threshold and a distance -> P(same) map.

The threshold is chosen either for a target false accept rate (the share of different-identity
pairs accepted) or for the best accuracy / F1 on calibration pairs; the probability map is
Platt scaling (a logistic regression on the distance) or isotonic regression. Both are fitted
on pairs of a *calibration* part of the chosen classes and checked on a disjoint *test* part,
so the reported rates are not the optimistic ones the threshold was picked on.

Thresholds are in the distance's own units: a pair is accepted as the same identity when its
distance is ``<= threshold`` (``>=`` for similarities, ``larger_is_closer=True``).

Example:
    >>> thr = fit_threshold(same, distances, target_far=0.01)
    >>> error_rates(same, distances, thr).far <= 0.01
    True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

OBJECTIVES = ("accuracy", "f1")
METHODS = ("platt", "isotonic")
SPLITS = ("train", "test")
FILENAME = "calibration.json"
FORMAT_VERSION = 1

FloatArray = npt.NDArray[np.float64]


def _check_pairs(same: npt.ArrayLike, distances: npt.ArrayLike) -> tuple[np.ndarray, FloatArray]:
    """``same`` as int 0/1 and ``distances`` as float64, both ``(K,)``, validated."""
    s = np.asarray(same)
    d = np.asarray(distances, dtype=np.float64)
    if s.ndim != 1 or d.ndim != 1 or s.shape != d.shape:
        raise ValueError(
            f"same and distances must be 1-D arrays of equal length; got shapes {s.shape} and "
            f"{d.shape}"
        )
    if not np.isin(s, (0, 1)).all():
        raise ValueError(
            f"same must hold only 0 (different) and 1 (same); got values {np.unique(s)[:5]}"
        )
    s = s.astype(np.int64)
    if s.min(initial=1) == s.max(initial=0):
        raise ValueError(
            f"calibration needs both same and different pairs; got {int(s.sum())} same and "
            f"{int(len(s) - s.sum())} different"
        )
    if not np.isfinite(d).all():
        raise ValueError(
            "distances contain NaN or infinity; the model produced bad embeddings or the "
            "inputs are corrupt"
        )
    return s, d


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
    s, d = _check_pairs(same, distances)
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


class Rates(NamedTuple):
    """Error rates of a threshold on labelled pairs.

    Attributes:
        far: False accept rate: share of different pairs accepted as the same.
        frr: False reject rate: share of same pairs rejected.
        tar: True accept rate, ``1 - frr``.
        accuracy: Share of all pairs decided correctly.
    """

    far: float
    frr: float
    tar: float
    accuracy: float


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
    s, d = _check_pairs(same, distances)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}")
    accept = d >= threshold if larger_is_closer else d <= threshold
    far = float(accept[s == 0].mean())
    frr = float((~accept[s == 1]).mean())
    return Rates(far=far, frr=frr, tar=1.0 - frr, accuracy=float((accept == (s == 1)).mean()))


@dataclass(frozen=True)
class ProbabilityMap:
    """A fitted map from a pair's distance to the probability that the pair is the same.

    ``platt`` is ``sigmoid(coef * distance + intercept)`` (Platt 1999, "Probabilistic outputs
    for support vector machines"), fitted by scikit-learn's ``LogisticRegression`` (default L2
    penalty, C=1) on the distance as the single feature. ``isotonic`` is scikit-learn's
    ``IsotonicRegression``, increasing in closeness and clipped outside the fitted range, kept as
    its breakpoints and evaluated by linear interpolation. Both serialise to plain JSON.

    Attributes:
        method: ``platt`` or ``isotonic``.
        coef, intercept: Platt parameters.
        x_thresholds, y_thresholds: Isotonic breakpoints (x increasing).

    Example:
        >>> pm = ProbabilityMap.fit(same, distances, method="isotonic")
        >>> pm.predict([0.2, 1.5])  # (2,) probabilities
    """

    method: str
    coef: float = 0.0
    intercept: float = 0.0
    x_thresholds: tuple[float, ...] = ()
    y_thresholds: tuple[float, ...] = ()

    @classmethod
    def fit(
        cls,
        same: npt.ArrayLike,
        distances: npt.ArrayLike,
        method: str = "platt",
        larger_is_closer: bool = False,
    ) -> ProbabilityMap:
        """Fit the map on ``(K,)`` pair labels (1 = same) and distances."""
        _check_method(method)
        s, d = _check_pairs(same, distances)
        if method == "platt":
            lr = LogisticRegression().fit(d.reshape(-1, 1), s)
            return cls("platt", coef=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0]))
        iso = IsotonicRegression(
            increasing=larger_is_closer, y_min=0.0, y_max=1.0, out_of_bounds="clip"
        ).fit(d, s)
        return cls(
            "isotonic",
            x_thresholds=tuple(float(v) for v in iso.X_thresholds_),
            y_thresholds=tuple(float(v) for v in iso.y_thresholds_),
        )

    def predict(self, distances: npt.ArrayLike) -> FloatArray:
        """P(same) for each distance; same shape as the input."""
        d = np.asarray(distances, dtype=np.float64)
        if not np.isfinite(d).all():
            raise ValueError("distances contain NaN or infinity; cannot map them to probabilities")
        if self.method == "platt":
            return np.asarray(expit(self.coef * d + self.intercept), dtype=np.float64)
        return np.interp(d, self.x_thresholds, self.y_thresholds)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able parameters (no pickle)."""
        if self.method == "platt":
            return {"method": "platt", "coef": self.coef, "intercept": self.intercept}
        return {
            "method": "isotonic",
            "x_thresholds": list(self.x_thresholds),
            "y_thresholds": list(self.y_thresholds),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbabilityMap:
        """Inverse of :meth:`to_dict`; a ValueError says what is missing or malformed."""
        if not isinstance(d, dict):
            raise ValueError(f"a probability map must be a JSON object; got {d!r}")
        method = d.get("method")
        _check_method(str(method))
        try:
            if method == "platt":
                return cls("platt", coef=float(d["coef"]), intercept=float(d["intercept"]))
            x = tuple(float(v) for v in d["x_thresholds"])
            y = tuple(float(v) for v in d["y_thresholds"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"malformed {method} probability map {d!r}: {e!r}") from None
        if not x or len(x) != len(y) or any(b < a for a, b in itertools.pairwise(x)):
            raise ValueError(
                "malformed isotonic probability map: x_thresholds must be non-empty, sorted and "
                f"as long as y_thresholds; got {len(x)} x and {len(y)} y values"
            )
        return cls("isotonic", x_thresholds=x, y_thresholds=y)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of: {', '.join(METHODS)}")
