"""Verification metrics on labelled pairs: ROC-AUC, EER and a decision threshold.

Scores follow scikit-learn's convention (larger = more likely the same); the threshold is
reported back in the distance's own units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


class VerificationMetrics(NamedTuple):
    """Pair verification figures.

    Attributes:
        roc_auc: Area under the ROC curve.
        eer: Equal error rate (false accept rate = false reject rate).
        eer_threshold: Score at the EER.
        best_accuracy: Accuracy at the best threshold on these pairs.
        best_threshold: Score threshold with the best accuracy (same if score >= threshold).
    """

    roc_auc: float
    eer: float
    eer_threshold: float
    best_accuracy: float
    best_threshold: float


def verification_metrics(same: np.ndarray, scores: np.ndarray) -> VerificationMetrics:
    """Metrics of pair scores.

    Args:
        same: ``(K,)`` 1 where the pair is the same identity, 0 otherwise.
        scores: ``(K,)`` closeness scores, larger = more alike.
    """
    same = np.asarray(same).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        raise ValueError("pair scores contain NaN or infinity; the model produced bad embeddings")
    if same.min() == same.max():
        raise ValueError("verification needs both same and different pairs")
    fpr, tpr, thr = roc_curve(same, scores)
    fnr = 1.0 - tpr
    # EER: where FNR - FPR changes sign, linearly interpolated between the two ROC points.
    diff = fnr - fpr
    k = int(np.nonzero(diff <= 0)[0][0])
    if k == 0 or diff[k] == diff[k - 1]:
        eer, eer_thr = float(fpr[k]), float(thr[k])
    else:
        w = diff[k - 1] / (diff[k - 1] - diff[k])
        eer = float(fpr[k - 1] + w * (fpr[k] - fpr[k - 1]))
        eer_thr = float(thr[k - 1] + w * (thr[k] - thr[k - 1])) if k > 1 else float(thr[k])
    n_pos, n_neg = same.sum(), len(same) - same.sum()
    acc = (tpr * n_pos + (1.0 - fpr) * n_neg) / len(same)
    finite = np.isfinite(thr)
    best = int(np.argmax(np.where(finite, acc, -1.0)))
    return VerificationMetrics(
        roc_auc=float(roc_auc_score(same, scores)),
        eer=eer,
        eer_threshold=eer_thr,
        best_accuracy=float(acc[best]),
        best_threshold=float(thr[best]),
    )
