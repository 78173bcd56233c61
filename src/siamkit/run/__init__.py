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

from typing import TYPE_CHECKING, Any

from siamkit.lazy import Exports, exported_names, lazy_export

if TYPE_CHECKING:
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

# submodule -> the public names imported from it on first access (PEP 562): importing one part,
# say run.files, costs no numpy
_EXPORTS: Exports = {
    "calibration": (
        "Calibration",
        "CalibrationSource",
        "ProbabilityMap",
        "Rates",
        "is_training_operating_point",
    ),
    "decision": (
        "DecisionRule",
        "accepts",
    ),
    "embedder": (
        "EMBEDDERS",
        "Embedder",
        "load_embedder",
    ),
    "files": (
        "read_json",
        "write_json",
        "write_text",
    ),
    "fingerprint": (
        "fingerprint_file",
        "fingerprint_state",
        "fingerprint_weights",
    ),
    "format": (
        "FORMAT",
        "model_kind",
    ),
    "record": (
        "RunRecord",
        "no_threshold_error",
        "open_run",
    ),
}

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


def __getattr__(name: str) -> Any:
    """Import a public name from its submodule on first access, then keep it here."""
    return lazy_export(__name__, _EXPORTS, name)


def __dir__() -> list[str]:
    """Module attributes, the lazily imported public names included."""
    return sorted({*globals(), *exported_names(_EXPORTS)})
