"""A run's decision record: the calibration stored as ``RUN/calibration.json``.

What a threshold achieved (:class:`Rates`), the distance -> P(same) map
(:class:`ProbabilityMap`) and the calibration that holds both (:class:`Calibration`). Reading
and writing them needs numpy alone; fitting the map imports scikit-learn when called. The
fitting of thresholds and the choice of pairs live in :mod:`siamkit.evaluation`.

Example:
    >>> cal = Calibration.load("runs/digits")  # None when the run is not calibrated
    >>> round(cal.threshold, 2), cal.accept([0.1, 1.2])
    (0.21, array([ True, False]))
    >>> cal.probability_map.predict([0.1, 1.2]).round(2)  # P(same)
    array([0.83, 0.  ])
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from siamkit.run.decision import accepts
from siamkit.run.files import CALIBRATION, read_json, write_json

METHODS = ("platt", "isotonic")
FORMAT_VERSION = 1

FloatArray = npt.NDArray[np.float64]


def _sigmoid(z: npt.ArrayLike) -> FloatArray:
    """``1 / (1 + exp(-z))`` without overflow on either side (numpy only: reading a
    calibration must not need scipy)."""
    x = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def check_pairs(same: npt.ArrayLike, distances: npt.ArrayLike) -> tuple[np.ndarray, FloatArray]:
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
        >>> same = [1, 1, 1, 0, 1, 0, 0]  # 1: the pair is the same
        >>> distances = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 1.2]
        >>> pm = ProbabilityMap.fit(same, distances, method="isotonic")
        >>> pm.predict([0.2, 0.45, 1.5])  # (3,) probabilities
        array([1. , 0.5, 0. ])
        >>> ProbabilityMap.from_dict(pm.to_dict()) == pm  # plain JSON and back
        True
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
        check_method(method)
        s, d = check_pairs(same, distances)
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

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
            return _sigmoid(self.coef * d + self.intercept)
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
        check_method(str(method))
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


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of: {', '.join(METHODS)}")


@dataclass
class CalibrationSource:
    """Which pairs a calibration was fitted and tested on.

    Attributes:
        data, split: The data source and its split (``train`` / ``test``).
        checkpoint: The run's checkpoint embedded (``best``).
        split_by: ``class`` (disjoint classes in the two parts), ``item`` (2-3 classes: each
            class's items divided between the parts) or ``none`` (no test part).
        calibration_classes, test_classes: Class names in each part.
        calibration_items, test_items: Items in each part.
        num_pairs: Balanced pairs drawn in each part.
        seed: Calibration pairs use ``seed``, test pairs ``seed + 1``; the split uses ``seed``.
        eval_classes_used: The run's evaluation classes among those used (named explicitly).
    """

    data: str
    split: str
    checkpoint: str
    split_by: str
    calibration_classes: list[str]
    test_classes: list[str]
    calibration_items: int
    test_items: int
    num_pairs: int
    seed: int
    eval_classes_used: list[str] = field(default_factory=list)


@dataclass
class Calibration:
    """A run's calibrated decision rule, stored as ``RUN/calibration.json``.

    Attributes:
        threshold: Accept when ``distance <= threshold`` (``>=`` if ``larger_is_closer``).
        objective: ``accuracy`` or ``f1`` the threshold maximises; None with ``target_far``.
        target_far: The false accept rate the threshold was held under, or None.
        method: ``platt`` or ``isotonic``: how ``probability_map`` was fitted.
        probability_map: Distance -> P(same).
        distance: The run's distance name.
        larger_is_closer: Whether the distance is a similarity.
        calibration_rates: Rates on the calibration pairs (where the threshold was fitted).
        test_rates: Rates on the separate test pairs, or None without a test part.
        source: Which pairs were used; None when fitted from arrays.
    """

    threshold: float
    objective: str | None
    target_far: float | None
    method: str
    probability_map: ProbabilityMap
    distance: str
    larger_is_closer: bool
    calibration_rates: Rates
    test_rates: Rates | None = None
    source: CalibrationSource | None = None

    def accept(self, distances: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each distance is accepted as the same identity."""
        return accepts(distances, self.threshold, self.larger_is_closer)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (what :meth:`save` writes)."""
        return {
            "version": FORMAT_VERSION,
            "threshold": self.threshold,
            "objective": self.objective,
            "target_far": self.target_far,
            "method": self.method,
            "probability_map": self.probability_map.to_dict(),
            "distance": self.distance,
            "larger_is_closer": self.larger_is_closer,
            "calibration_rates": self.calibration_rates._asdict(),
            "test_rates": None if self.test_rates is None else self.test_rates._asdict(),
            "source": None if self.source is None else vars(self.source).copy(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`; a ValueError says what is malformed."""
        if not isinstance(d, dict):
            raise ValueError(f"a calibration record must be a JSON object; got {type(d).__name__}")
        if d.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"calibration format version {d.get('version')!r} is not {FORMAT_VERSION}; "
                "re-run `siamkit calibrate` with this siamkit"
            )
        try:
            test = d["test_rates"]
            source = d["source"]
            return cls(
                threshold=float(d["threshold"]),
                objective=d["objective"],
                target_far=None if d["target_far"] is None else float(d["target_far"]),
                method=str(d["method"]),
                probability_map=ProbabilityMap.from_dict(d["probability_map"]),
                distance=str(d["distance"]),
                larger_is_closer=bool(d["larger_is_closer"]),
                calibration_rates=Rates(**d["calibration_rates"]),
                test_rates=None if test is None else Rates(**test),
                source=None if source is None else CalibrationSource(**source),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"malformed calibration record: {e!r}") from None

    def save(self, run_dir: str | Path) -> Path:
        """Write ``RUN/calibration.json`` atomically; returns its path."""
        path = Path(run_dir) / CALIBRATION
        write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> Calibration | None:
        """The run's saved calibration, or None if it has not been calibrated."""
        path = Path(run_dir) / CALIBRATION
        if not path.is_file():
            return None
        try:
            return cls.from_dict(read_json(path))
        except ValueError as e:
            raise ValueError(f"{path} is malformed ({e}); re-run `siamkit calibrate`") from None


def is_training_operating_point(
    calibration: Calibration | None, metrics: Mapping[str, Any]
) -> bool:
    """Whether ``calibration`` is the operating point training saved itself (the refit writes
    it to ``calibration.json`` and under ``operating_point`` in ``metrics.json``), rather than
    one ``siamkit calibrate`` fitted later. False without a calibration."""
    point = metrics.get("operating_point")
    if calibration is None or not isinstance(point, Mapping):
        return False
    threshold = point.get("threshold")
    return threshold is not None and float(threshold) == calibration.threshold
