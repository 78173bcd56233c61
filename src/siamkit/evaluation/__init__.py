"""Evaluation: verification (ROC-AUC, EER, threshold) and retrieval (precision@1)."""

from __future__ import annotations

from siamkit.evaluation.embed import embed_all
from siamkit.evaluation.evaluate import EvalMetrics, evaluate_model
from siamkit.evaluation.retrieval import nearest_neighbour, precision_at_1
from siamkit.evaluation.verification import VerificationMetrics, verification_metrics

__all__ = [
    "EvalMetrics",
    "VerificationMetrics",
    "embed_all",
    "evaluate_model",
    "nearest_neighbour",
    "precision_at_1",
    "verification_metrics",
]
