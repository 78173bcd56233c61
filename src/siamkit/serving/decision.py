"""Distances between embeddings and the same/different decision the service answers with.

The threshold and P(same) map come from the run's calibration (``RUN/calibration.json``, see
:class:`~siamkit.evaluation.calibrated_run.Calibration`); an uncalibrated run falls back to its
validation threshold and answers no probability.

Example:
    >>> rule = DecisionRule.from_run("runs/demo", embedder)
    >>> d = rule.distances(ea, eb)  # (B,)
    >>> rule.same(d), rule.probability(d)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.run import ProbabilityMap

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DecisionRule:
    """How a pair of embeddings becomes a distance, a decision and a probability.

    Attributes:
        metric: The distance name.
        threshold: Accept when ``distance <= threshold`` (``>=`` if ``larger_is_closer``).
        larger_is_closer: Whether the metric is a similarity.
        probability_map: Distance -> P(same), or None without calibration.
        embedder: Used for :meth:`distances`: its ``pair_distances`` (an ONNX model), else its
            torch model's distance object (learned metrics keep their weights), else the
            registered distance of ``metric``.
    """

    metric: str
    threshold: float
    larger_is_closer: bool
    probability_map: ProbabilityMap | None
    embedder: Any = None

    @classmethod
    def from_run(cls, run_dir: str | Path, embedder: Any) -> DecisionRule:
        """The calibrated rule of ``run_dir`` for ``embedder``.

        Raises:
            ValueError: The run has neither a calibration nor a validation threshold.
        """
        import json

        from siamkit.run import Calibration

        cal = Calibration.load(run_dir)
        larger = bool(getattr(embedder, "larger_is_closer", False))
        if cal is not None:
            return cls(
                embedder.distance,
                cal.threshold,
                cal.larger_is_closer,
                cal.probability_map,
                embedder,
            )
        threshold = None
        metrics = Path(run_dir) / "metrics.json"
        if metrics.is_file():
            threshold = json.loads(metrics.read_text()).get("threshold")
        if threshold is None:
            threshold = getattr(embedder, "threshold", None)
        if threshold is None:
            raise ValueError(
                f"run {run_dir} has no threshold (no calibration.json, no validation threshold); "
                f"calibrate it first: `siamkit calibrate {run_dir}`"
            )
        return cls(embedder.distance, float(threshold), larger, None, embedder)

    def distances(self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> FloatArray:
        """``(B,)`` distances between rows of two ``(B, D)`` arrays."""
        own = getattr(self.embedder, "pair_distances", None)
        if own is not None:
            return np.asarray(own(a, b), dtype=np.float64)
        import torch

        from siamkit.distances import get_distance

        # a torch model carries its own distance object (a learned one with its weights)
        model = getattr(self.embedder, "model", None)
        dist = getattr(model, "distance", None) or get_distance(self.metric)
        with torch.inference_mode():
            d = dist.pairwise(torch.from_numpy(a), torch.from_numpy(b))
        return d.double().numpy()

    def same(self, d: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each distance is accepted as the same identity."""
        x = np.asarray(d, dtype=np.float64)
        return x >= self.threshold if self.larger_is_closer else x <= self.threshold

    def probability(self, d: npt.ArrayLike) -> FloatArray | None:
        """Calibrated P(same) per distance, or None without a calibration."""
        if self.probability_map is None:
            return None
        return self.probability_map.predict(d)
