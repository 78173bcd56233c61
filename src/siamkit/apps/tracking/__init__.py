"""Object tracking, SiamFC style: a fully-convolutional Siamese tracker trained on generated
sequences with exact ground truth, OTB-layout loading, and OTB one-pass evaluation.

See ``docs/applications/tracking.md`` for the recipe and the measured figures.
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "boxes": (
        "centre_error",
        "iou",
        "parse_box",
    ),
    "checkpoint": (
        "LoadedTracker",
        "load_tracker",
        "save_tracker",
    ),
    "crops": (
        "context_size",
        "crop",
    ),
    "evaluate": (
        "TrackerResult",
        "evaluate_trackers",
    ),
    "generator": (
        "GeneratedSequence",
        "GeneratorConfig",
        "digit_sequences",
        "generate_sequence",
        "generate_sequences",
    ),
    "heldout": (
        "compare_trackers",
        "evaluation_sequences",
    ),
    "labels": (
        "balanced_weights",
        "logistic_loss",
        "response_labels",
    ),
    "metrics": (
        "OPEResult",
        "score_ope",
        "score_sequence",
        "success_curve",
    ),
    "network": (
        "SiamFC",
        "SiamFCEncoder",
        "xcorr",
    ),
    "otb": (
        "OTBSequence",
        "load_otb",
        "read_boxes",
        "write_otb",
    ),
    "pairs": ("sample_pairs",),
    "sequence": ("TrackingSequence",),
    "tracker": (
        "SiamFCTracker",
        "StayTracker",
        "Tracker",
        "TrackerParams",
        "run_tracker",
    ),
    "training": (
        "TrackerTrainConfig",
        "train_tracker",
    ),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)
