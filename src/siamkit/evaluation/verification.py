"""Verification metrics on labelled pairs: ROC-AUC, EER and a decision threshold.

Scores follow scikit-learn's convention (larger = more likely the same); the threshold is
reported back in the distance's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from sklearn.metrics import auc, roc_curve

from siamkit.evaluation.bootstrap import bootstrap_interval

FAR_TARGETS = (1e-1, 1e-2, 1e-3)


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
    return _Roc(same, scores).metrics()


class _Roc:
    """One ROC curve (scikit-learn) and every figure read off it."""

    def __init__(self, same: np.ndarray, scores: np.ndarray) -> None:
        self.fpr, self.tpr, self.thr = roc_curve(same, scores)
        self.n_pos = int(same.sum())
        self.n_neg = len(same) - self.n_pos

    def metrics(self) -> VerificationMetrics:
        fpr, tpr, thr = self.fpr, self.tpr, self.thr
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
        acc = (tpr * self.n_pos + (1.0 - fpr) * self.n_neg) / (self.n_pos + self.n_neg)
        finite = np.isfinite(thr)
        best = int(np.argmax(np.where(finite, acc, -1.0)))
        return VerificationMetrics(
            roc_auc=float(auc(fpr, tpr)),
            eer=eer,
            eer_threshold=eer_thr,
            best_accuracy=float(acc[best]),
            best_threshold=float(thr[best]),
        )

    def tar_at_far(self, far: float) -> float:
        ok = self.fpr <= far + 1e-12
        return float(self.tpr[ok].max()) if ok.any() else 0.0

    def best_f1(self) -> float:
        tp, fp = self.tpr * self.n_pos, self.fpr * self.n_neg
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + (self.n_pos - tp), 1e-12), 0.0)
        return float(f1.max())


def tar_at_far(same: np.ndarray, scores: np.ndarray, far: float) -> float:
    """True accept rate at the largest false accept rate not above ``far`` (no interpolation:
    the operating point must be reachable with one threshold)."""
    return _Roc(np.asarray(same).astype(int), np.asarray(scores, dtype=np.float64)).tar_at_far(far)


def best_f1(same: np.ndarray, scores: np.ndarray) -> float:
    """Best F1 (positive = same pair) over all thresholds."""
    return _Roc(np.asarray(same).astype(int), np.asarray(scores, dtype=np.float64)).best_f1()


@dataclass
class Estimate:
    """A figure with its bootstrap interval."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """``{"value", "low", "high"}``."""
        return {"value": self.value, "low": self.low, "high": self.high}


@dataclass
class VerificationReport:
    """Verification figures with 95% bootstrap intervals (pairs resampled with replacement).

    Attributes:
        roc_auc, eer, best_accuracy, best_f1: As named; accuracy and F1 at their best threshold.
        tar_at_far: TAR at each FAR target (keys: the targets).
        far, frr, accuracy_at_threshold: At ``threshold`` (None when no threshold was given).
        threshold: The score threshold used (same if score >= threshold), or None.
        num_pairs: Pairs evaluated.
    """

    roc_auc: Estimate
    eer: Estimate
    best_accuracy: Estimate
    best_f1: Estimate
    tar_at_far: dict[float, Estimate] = field(default_factory=dict)
    far: Estimate | None = None
    frr: Estimate | None = None
    accuracy_at_threshold: Estimate | None = None
    threshold: float | None = None
    num_pairs: int = 0

    def as_dict(self) -> dict[str, object]:
        """Flat JSON-ready dict: ``tar_at_far_0.01`` etc., each ``{value, low, high}``."""
        out: dict[str, object] = {
            "roc_auc": self.roc_auc.as_dict(),
            "eer": self.eer.as_dict(),
            "best_accuracy": self.best_accuracy.as_dict(),
            "best_f1": self.best_f1.as_dict(),
        }
        for far, est in self.tar_at_far.items():
            out[f"tar_at_far_{far:g}"] = est.as_dict()
        for name in ("far", "frr", "accuracy_at_threshold"):
            est = getattr(self, name)
            if est is not None:
                out[name] = est.as_dict()
        out["threshold"] = self.threshold
        out["num_pairs"] = self.num_pairs
        return out


def _figures(
    same: np.ndarray, scores: np.ndarray, fars: Sequence[float], threshold: float | None
) -> np.ndarray:
    if same.min() == same.max():
        return np.full(4 + len(fars) + (3 if threshold is not None else 0), np.nan)
    roc = _Roc(same, scores)
    v = roc.metrics()
    row = [v.roc_auc, v.eer, v.best_accuracy, roc.best_f1()]
    row += [roc.tar_at_far(f) for f in fars]
    if threshold is not None:
        accept = scores >= threshold
        pos = same == 1
        row += [
            float(accept[~pos].mean()),  # FAR
            float((~accept[pos]).mean()),  # FRR
            float((accept == pos).mean()),
        ]
    return np.array(row)


def verification_report(
    same: np.ndarray,
    scores: np.ndarray,
    threshold: float | None = None,
    fars: Sequence[float] = FAR_TARGETS,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> VerificationReport:
    """All verification figures of pair scores, each with a bootstrap interval.

    Args:
        same: ``(K,)`` 1 for a same-identity pair, 0 otherwise.
        scores: ``(K,)`` closeness, larger = more alike.
        threshold: A calibrated score threshold (same if score >= threshold) for FAR/FRR.
        fars: FAR targets for TAR@FAR.
        n_boot: Bootstrap resamples (0 = no intervals: low = high = value).
    """
    same = np.asarray(same).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    verification_metrics(same, scores)  # validates: both kinds of pair, finite scores
    value = _figures(same, scores, fars, threshold)
    if n_boot > 0:
        low, high = bootstrap_interval(
            lambda i: _figures(same[i], scores[i], fars, threshold), len(same), n_boot, level, seed
        )
    else:
        low = high = value
    est = [Estimate(float(a), float(b), float(c)) for a, b, c in zip(value, low, high, strict=True)]
    k = 4 + len(fars)
    return VerificationReport(
        roc_auc=est[0],
        eer=est[1],
        best_accuracy=est[2],
        best_f1=est[3],
        tar_at_far=dict(zip(fars, est[4:k], strict=True)),
        far=est[k] if threshold is not None else None,
        frr=est[k + 1] if threshold is not None else None,
        accuracy_at_threshold=est[k + 2] if threshold is not None else None,
        threshold=threshold,
        num_pairs=len(same),
    )
