"""Object tracking, SiamFC style: a fully-convolutional Siamese tracker trained on generated
sequences with exact ground truth, OTB-layout loading, and OTB one-pass evaluation.

See ``docs/applications/tracking.md`` for the recipe and the measured figures.
"""

from siamkit.apps.tracking.boxes import centre_error, iou, parse_box
from siamkit.apps.tracking.checkpoint import LoadedTracker, load_tracker, save_tracker
from siamkit.apps.tracking.crops import context_size, crop
from siamkit.apps.tracking.evaluate import TrackerResult, evaluate_trackers
from siamkit.apps.tracking.generator import (
    GeneratedSequence,
    GeneratorConfig,
    generate_sequence,
    generate_sequences,
)
from siamkit.apps.tracking.heldout import compare_trackers, evaluation_sequences
from siamkit.apps.tracking.labels import balanced_weights, logistic_loss, response_labels
from siamkit.apps.tracking.metrics import OPEResult, score_ope, score_sequence, success_curve
from siamkit.apps.tracking.network import SiamFC, SiamFCEncoder, xcorr
from siamkit.apps.tracking.otb import OTBSequence, load_otb, read_boxes, write_otb
from siamkit.apps.tracking.pairs import sample_pairs
from siamkit.apps.tracking.sequence import TrackingSequence
from siamkit.apps.tracking.tracker import (
    SiamFCTracker,
    StayTracker,
    Tracker,
    TrackerParams,
    run_tracker,
)
from siamkit.apps.tracking.training import TrackerTrainConfig, train_tracker

__all__ = [
    "GeneratedSequence",
    "GeneratorConfig",
    "LoadedTracker",
    "OPEResult",
    "OTBSequence",
    "SiamFC",
    "SiamFCEncoder",
    "SiamFCTracker",
    "StayTracker",
    "Tracker",
    "TrackerParams",
    "TrackerResult",
    "TrackerTrainConfig",
    "TrackingSequence",
    "balanced_weights",
    "centre_error",
    "compare_trackers",
    "context_size",
    "crop",
    "evaluate_trackers",
    "evaluation_sequences",
    "generate_sequence",
    "generate_sequences",
    "iou",
    "load_otb",
    "load_tracker",
    "logistic_loss",
    "parse_box",
    "read_boxes",
    "response_labels",
    "run_tracker",
    "sample_pairs",
    "save_tracker",
    "score_ope",
    "score_sequence",
    "success_curve",
    "train_tracker",
    "write_otb",
    "xcorr",
]
