"""A run folder opened as records: its config, metrics, calibration and decision rule (no torch).

:func:`open_run` reads the JSON files of a run (``siamkit train``/``siamkit init``) and answers
what every surface asks of a trained model without loading it: what it was trained on, its
held-out figures, which threshold decides and where that threshold came from, which weights it
holds. Loading the network itself is :func:`siamkit.run.checkpoint.load_run` (torch).

Example:
    >>> run = open_run("runs/digits")
    >>> run.train["data"], run.model["embedding_dim"], run.metrics.get("best_epoch")
    ('digits', 16, 1)
    >>> rule = run.decision_rule(larger_is_closer=False)
    >>> rule.source, round(rule.threshold, 2)
    ('operating_point', 0.21)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siamkit.run.calibration import Calibration, is_training_operating_point
from siamkit.run.decision import DecisionRule
from siamkit.run.files import CONFIG, DAMAGED, METRICS, WEIGHTS, read_json_object
from siamkit.run.fingerprint import fingerprint_file
from siamkit.run.format import TORCH, folder_header

NOT_A_RUN = "train one with `siamkit train --out DIR` or make one with `siamkit init DIR`"


@dataclass(frozen=True)
class RunRecord:
    """What a run folder says about itself.

    Attributes:
        path: The run folder.
        format: Its run format (1: written before the versioned header).
        kind: Its model kind (``torch``).
        config: The run's ``config.json`` (``train``: the resolved TrainConfig, ``model``: the
            ModelSpec, ``requested``: what the user asked for).
        metrics: The best checkpoint's ``metrics.json`` under the run's own ``metrics.json``
            (history, best epoch, validation threshold, operating point, held-out figures).
        calibration: ``calibration.json``, or None when the run has none.
    """

    path: Path
    format: int
    kind: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    calibration: Calibration | None

    @property
    def train(self) -> dict[str, Any]:
        """The resolved training settings (a TrainConfig as a dict)."""
        return dict(self.config.get("train") or {})

    @property
    def model(self) -> dict[str, Any]:
        """The model spec (a ModelSpec as a dict)."""
        return dict(self.config.get("model") or {})

    def weights(self, checkpoint: str = "best") -> Path:
        """The checkpoint's ``model.safetensors``."""
        return self.path / checkpoint / WEIGHTS

    def fingerprint(self, checkpoint: str = "best") -> str:
        """:func:`~siamkit.run.fingerprint_weights` of the checkpoint's weights, read without
        torch (the same value a loaded model and its ONNX export give)."""
        return fingerprint_file(self.weights(checkpoint))

    def threshold_source(self) -> str | None:
        """Where the deciding threshold comes from: ``operating_point`` (training's own, fitted
        on held-out training classes), ``calibration`` (``siamkit calibrate``), ``validation``
        (best accuracy on validation pairs), or None when there is none."""
        if self.calibration is not None:
            if is_training_operating_point(self.calibration, self.metrics):
                return "operating_point"
            return "calibration"
        if self._operating_threshold() is not None:
            return "operating_point"
        return "validation" if self.metrics.get("threshold") is not None else None

    def decision_rule(self, larger_is_closer: bool) -> DecisionRule | None:
        """The run's rule: its calibration (which holds training's operating point when the
        run was refit), else training's operating point, else its validation threshold; None
        without any.

        Args:
            larger_is_closer: Whether the run's distance is a similarity (its distance object
                knows; a calibration records it itself).
        """
        source = self.threshold_source()
        if source is None:
            return None
        if self.calibration is not None:
            return DecisionRule.from_calibration(self.calibration, source)
        threshold = self._operating_threshold()
        if threshold is None:
            threshold = float(self.metrics["threshold"])
        metric = str(self.model.get("distance", ""))
        return DecisionRule(metric, threshold, larger_is_closer, None, source)

    def _operating_threshold(self) -> float | None:
        point = self.metrics.get("operating_point")
        if isinstance(point, dict) and point.get("threshold") is not None:
            return float(point["threshold"])
        return None


def no_threshold_error(path: str | Path) -> ValueError:
    """The error for a run asked to decide without a threshold, with the two fixes."""
    return ValueError(
        f"run {path} has no threshold (no calibration.json, no validation threshold); "
        f"calibrate it first (`siamkit calibrate {path}`) or pass --threshold"
    )


def open_run(path: str | Path, checkpoint: str = "best") -> RunRecord:
    """Read a run folder's records (JSON only: nothing is imported or loaded).

    Args:
        path: The run folder.
        checkpoint: Whose ``metrics.json`` lies under the run's own (``best`` or ``last``).

    Raises:
        ValueError: Not a run folder, another kind of model, or an unreadable record; the
            message names the file and how to make a run.
    """
    path = Path(path)
    config_file = path / CONFIG
    if not config_file.is_file():  # a run written by save_checkpoint alone: its checkpoint's
        config_file = path / checkpoint / CONFIG
    if not config_file.is_file():
        raise ValueError(f"{path} is not a finished siamkit run (no {CONFIG}); {NOT_A_RUN}")
    fmt, kind = folder_header(config_file.parent)
    if kind != TORCH:
        raise ValueError(f"{path} holds a '{kind}' model, not a trained siamkit run")
    config = read_json_object(config_file)
    _check_types(config_file, config, CONFIG_TYPES)
    metrics: dict[str, Any] = {}
    for file in (path / checkpoint / METRICS, path / METRICS):
        if file.is_file():
            record = read_json_object(file)
            _check_types(file, record, METRIC_TYPES)
            metrics |= record
    return RunRecord(path, fmt, kind, config, metrics, Calibration.load(path))


# the records a run's readers rely on: the JSON type each must have (None is allowed)
NUMBER = (int, float)
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "train": (dict,),
    "model": (dict,),
    "requested": (dict,),
}
METRIC_TYPES: dict[str, tuple[type, ...]] = {
    "threshold": NUMBER,
    "best_epoch": (int,),
    "history": (list,),
    "operating_point": (dict,),
}
_JSON_NAMES = {int: "number", float: "number", list: "list", dict: "object"}


def _check_types(file: Path, record: dict[str, Any], types: dict[str, tuple[type, ...]]) -> None:
    """Refuse a record whose known keys hold values of the wrong JSON type, naming the file."""
    for key, kinds in types.items():
        value = record.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise ValueError(
                f"{file}: '{key}' is {value!r}, not a JSON {_JSON_NAMES[kinds[0]]}; {DAMAGED}"
            )
