"""The one decision rule: a threshold on a distance, and optionally a distance -> P(same) map.

Every surface decides "same or different" here: ``siamkit verify``, ``evaluate``, the gallery,
the REST service, the exported ONNX model's runtime and the face pipeline. A pair is accepted
when its distance is ``<= threshold`` (``>=`` for a similarity, ``larger_is_closer``).

Example:
    >>> rule = DecisionRule("euclidean", 0.8, larger_is_closer=False, probability_map=None)
    >>> rule.same([0.5, 1.1])
    array([ True, False])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

# with fewer pairs of held-out classes than this under the default operating point, the run
# says how rough its promised FAR is: on one pair (five training classes) a promised 0.05 gave
# 0.015 to 0.35 on digits' unseen classes over five seeds (bench/operating_point_mixed.py)
FEW_CLASS_PAIRS = 10


def promise_basis(unseen_class_pairs: object) -> str | None:
    """What a promised FAR rests on, in words, when that is too little to trust; else None.

    ``unseen_class_pairs`` is the operating point's record of it: pairs of classes the
    selection model never saw (0: held-out items of trained classes); None for older runs.

    Example:
        >>> promise_basis(1)
        '1 pair of classes the selection model never saw'
        >>> promise_basis(10) is None, promise_basis(None) is None
        (True, True)
    """
    if not isinstance(unseen_class_pairs, int) or unseen_class_pairs >= FEW_CLASS_PAIRS:
        return None
    if unseen_class_pairs == 0:
        return "held-out items of classes the model trained on (optimistic)"
    plural = "s" if unseen_class_pairs != 1 else ""
    return f"{unseen_class_pairs} pair{plural} of classes the selection model never saw"


if TYPE_CHECKING:
    from siamkit.run.calibration import Calibration, ProbabilityMap

FloatArray = npt.NDArray[np.float64]


def accepts(
    distances: npt.ArrayLike, threshold: float, larger_is_closer: bool = False
) -> npt.NDArray[np.bool_]:
    """Whether each distance is accepted as the same identity at ``threshold``.

    Args:
        distances: Pair distances, any shape (similarities with ``larger_is_closer``).
        threshold: Accept when ``distance <= threshold`` (``>=`` for similarities).
        larger_is_closer: True for a similarity.

    Returns:
        Booleans of the same shape.
    """
    d = np.asarray(distances, dtype=np.float64)
    return d >= threshold if larger_is_closer else d <= threshold


@dataclass(frozen=True)
class DecisionRule:
    """How a pair's distance becomes a decision and a probability.

    Attributes:
        metric: The distance name the threshold is in.
        threshold: Accept when ``distance <= threshold`` (``>=`` if ``larger_is_closer``).
        larger_is_closer: Whether the metric is a similarity.
        probability_map: Distance -> P(same), or None without a calibration.
        source: Where the threshold came from: ``operating_point`` (training's own, fitted on
            held-out training classes), ``calibration`` (``siamkit calibrate``),
            ``validation`` (best accuracy on validation pairs), ``model`` (the model's own,
            e.g. dlib's 0.6), ``export`` (carried by an ONNX file) or ``given`` (an option).
    """

    metric: str
    threshold: float
    larger_is_closer: bool
    probability_map: ProbabilityMap | None
    source: str = "given"

    def __post_init__(self) -> None:
        if not math.isfinite(self.threshold):
            raise ValueError(f"a decision threshold must be a finite number; got {self.threshold}")

    @classmethod
    def from_calibration(
        cls, calibration: Calibration, source: str = "calibration"
    ) -> DecisionRule:
        """The rule a calibration record stores (threshold and probability map)."""
        return cls(
            calibration.distance,
            calibration.threshold,
            calibration.larger_is_closer,
            calibration.probability_map,
            source,
        )

    def with_threshold(self, threshold: float) -> DecisionRule:
        """The same rule at another threshold (the probability map is kept: it maps distances,
        not decisions)."""
        return DecisionRule(
            self.metric, float(threshold), self.larger_is_closer, self.probability_map, "given"
        )

    def same(self, d: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each distance is accepted as the same identity."""
        return accepts(d, self.threshold, self.larger_is_closer)

    def probability(self, d: npt.ArrayLike) -> FloatArray | None:
        """Calibrated P(same) per distance, or None without a calibration."""
        if self.probability_map is None:
            return None
        return self.probability_map.predict(d)

    @property
    def calibrated(self) -> bool:
        """Whether the rule answers probabilities (it has a fitted map)."""
        return self.probability_map is not None
