"""Evaluation: verification, retrieval, few-shot, classification, open-set, calibration.

``evaluate_suite`` runs all of them on one model and data set; ``run_eval.evaluate_run`` does
it for a run directory, and ``report.write_report`` draws the result as HTML.
"""

from __future__ import annotations

from siamkit.evaluation.bootstrap import bootstrap_interval
from siamkit.evaluation.calibrated_run import calibrate_run, fit_calibration
from siamkit.evaluation.calibration import error_rates, fit_threshold
from siamkit.evaluation.classification import (
    ClassificationMetrics,
    classification_metrics,
    classify_and_score,
    knn_classify,
    prototype_classify,
)
from siamkit.evaluation.embed import embed_all
from siamkit.evaluation.evaluate import EvalMetrics, evaluate_model
from siamkit.evaluation.few_shot import FewShotResult, few_shot_accuracy, few_shot_suite
from siamkit.evaluation.knn import ExactKnn, Neighbours, knn_search
from siamkit.evaluation.open_set import (
    OpenSetMetrics,
    OperatingPoint,
    gallery_probe_split,
    open_set_identification,
)
from siamkit.evaluation.retrieval import nearest_neighbour, precision_at_1
from siamkit.evaluation.retrieval_metrics import RetrievalMetrics, retrieval_metrics
from siamkit.evaluation.suite import DistanceRow, EvaluationSuite, evaluate_suite
from siamkit.evaluation.verification import (
    Estimate,
    VerificationMetrics,
    VerificationReport,
    best_f1,
    tar_at_far,
    verification_metrics,
    verification_report,
)
from siamkit.run import Calibration, ProbabilityMap, Rates

__all__ = [
    "Calibration",
    "ClassificationMetrics",
    "DistanceRow",
    "Estimate",
    "EvalMetrics",
    "EvaluationSuite",
    "ExactKnn",
    "FewShotResult",
    "Neighbours",
    "OpenSetMetrics",
    "OperatingPoint",
    "ProbabilityMap",
    "Rates",
    "RetrievalMetrics",
    "VerificationMetrics",
    "VerificationReport",
    "best_f1",
    "bootstrap_interval",
    "calibrate_run",
    "classification_metrics",
    "classify_and_score",
    "embed_all",
    "error_rates",
    "evaluate_model",
    "evaluate_suite",
    "few_shot_accuracy",
    "few_shot_suite",
    "fit_calibration",
    "fit_threshold",
    "gallery_probe_split",
    "knn_classify",
    "knn_search",
    "nearest_neighbour",
    "open_set_identification",
    "precision_at_1",
    "prototype_classify",
    "retrieval_metrics",
    "tar_at_far",
    "verification_metrics",
    "verification_report",
]
