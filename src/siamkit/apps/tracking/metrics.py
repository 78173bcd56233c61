"""OTB one-pass evaluation (OPE): success plot AUC and precision at 20 pixels.

Wu, Lim and Yang, "Online Object Tracking: A Benchmark", CVPR 2013. A tracker is started once
from the ground-truth box of the first frame and never re-initialised; every frame (the first
one included, as in the OTB toolkit) is scored. *Success* at threshold ``t`` is the share of
frames whose IoU with the ground truth is greater than ``t``; the success plot samples ``t`` at
21 points in ``[0, 1]`` and its AUC is the mean of those rates. *Precision* at 20 px is the share
of frames whose centre error is at most 20 pixels. Sequence scores are averaged over sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from siamkit.apps.tracking.boxes import as_boxes, centre_error, iou

IOU_THRESHOLDS = np.linspace(0.0, 1.0, 21)  # OTB success-plot thresholds
PRECISION_PIXELS = 20.0


class SequenceScore(NamedTuple):
    """One sequence's OPE scores."""

    success: np.ndarray  # (21,) success rate at each IOU_THRESHOLDS value
    auc: float  # mean of ``success``
    precision: float  # share of frames with centre error <= 20 px
    mean_iou: float


class OPEResult(NamedTuple):
    """OPE scores averaged over sequences."""

    success: np.ndarray  # (21,) mean success curve
    auc: float  # mean success-plot AUC
    precision: float  # mean precision at 20 px
    mean_iou: float
    per_sequence: list[SequenceScore]


def success_curve(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Share of frames whose IoU exceeds each OTB threshold.

    Args:
        predicted: ``(T, 4)`` tracker boxes.
        truth: ``(T, 4)`` ground-truth boxes.

    Returns:
        ``(21,)`` success rates (strictly greater than the threshold, as in the OTB toolkit).

    Example:
        >>> success_curve(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 2, 2]]))[:8]
        array([1., 1., 1., 1., 1., 1., 1., 0.])
    """
    overlaps = iou(predicted, truth)  # (T,)
    return (overlaps[None, :] > IOU_THRESHOLDS[:, None]).mean(axis=1)


def score_sequence(predicted: np.ndarray, truth: np.ndarray) -> SequenceScore:
    """OPE scores of one sequence; ``predicted`` and ``truth`` are ``(T, 4)``.

    Raises:
        ValueError: The two do not have one box per frame each.
    """
    predicted, truth = as_boxes(predicted), as_boxes(truth)
    if predicted.shape != truth.shape:
        raise ValueError(
            f"{len(predicted)} predicted boxes for {len(truth)} ground-truth boxes; a tracker "
            "must return one box per frame"
        )
    curve = success_curve(predicted, truth)
    precision = float((centre_error(predicted, truth) <= PRECISION_PIXELS).mean())
    return SequenceScore(curve, float(curve.mean()), precision, float(iou(predicted, truth).mean()))


def score_ope(predicted: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> OPEResult:
    """OPE scores over sequences: each sequence scored, then the scores averaged.

    Example:
        >>> r = score_ope([np.array([[0, 0, 2, 2]])], [np.array([[0, 0, 2, 2]])])
        >>> r.auc, r.precision
        (0.9523809523809523, 1.0)
    """
    if len(predicted) != len(truth) or not truth:
        raise ValueError(f"{len(predicted)} predicted sequences for {len(truth)} ground truths")
    scores = [score_sequence(p, t) for p, t in zip(predicted, truth, strict=True)]
    return OPEResult(
        success=np.mean([s.success for s in scores], axis=0),
        auc=float(np.mean([s.auc for s in scores])),
        precision=float(np.mean([s.precision for s in scores])),
        mean_iou=float(np.mean([s.mean_iou for s in scores])),
        per_sequence=scores,
    )
