"""The trained model's one owner: a run folder's files, records, decision rule and embedder.

Everything after training reads and writes a run through this package: the file names and
atomic writes (:mod:`~siamkit.run.files`), the versioned header (:mod:`~siamkit.run.format`),
the records (:func:`open_run`), the calibration and the decision rule, the weights' fingerprint,
the model card, and :func:`load_embedder`, which loads any kind of model by the kind it
records. Importing this package imports neither torch nor onnxruntime; the torch parts
(:mod:`siamkit.run.checkpoint`, :mod:`siamkit.run.torch_embedder`) are imported by name.

Example:
    >>> run = open_run("runs/digits")  # JSON only
    >>> emb = load_embedder("runs/digits")  # the model, whatever its kind
"""

from __future__ import annotations

from siamkit.run.calibration import (
    Calibration,
    CalibrationSource,
    ProbabilityMap,
    Rates,
    is_training_operating_point,
)
from siamkit.run.decision import DecisionRule, accepts
from siamkit.run.embedder import EMBEDDERS, Embedder, load_embedder
from siamkit.run.files import read_json, write_json, write_text
from siamkit.run.fingerprint import fingerprint_file, fingerprint_state, fingerprint_weights
from siamkit.run.format import FORMAT, model_kind
from siamkit.run.record import RunRecord, no_threshold_error, open_run

__all__ = [
    "EMBEDDERS",
    "FORMAT",
    "Calibration",
    "CalibrationSource",
    "DecisionRule",
    "Embedder",
    "ProbabilityMap",
    "Rates",
    "RunRecord",
    "accepts",
    "fingerprint_file",
    "fingerprint_state",
    "fingerprint_weights",
    "is_training_operating_point",
    "load_embedder",
    "model_kind",
    "no_threshold_error",
    "open_run",
    "read_json",
    "write_json",
    "write_text",
]
