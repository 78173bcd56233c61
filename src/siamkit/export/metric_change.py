"""What an export costs in quality: MAP@R and ROC-AUC of PyTorch vs ONNX embeddings.

Both embedding sets are scored the same way as ``siamkit evaluate``: MAP@R over all items
leave-one-out (:func:`~siamkit.evaluation.retrieval_metrics`) and ROC-AUC on balanced pairs of
the same seed (:func:`~siamkit.data.pairs.sample_pairs`,
:func:`~siamkit.evaluation.verification_metrics`).

Example:
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(np.arange(4), 10)  # 4 classes of 10 items
    >>> reference = rng.normal(size=(40, 8)).astype(np.float32) + labels[:, None]
    >>> candidate = np.round(reference)  # a coarse copy, as quantization makes
    >>> change = metric_change(reference, candidate, labels, "euclidean", num_pairs=1000)
    >>> round(change.map_at_r_drop, 3), round(change.roc_auc_drop, 3)  # > 0: the copy is worse
    (0.006, 0.012)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from siamkit.data.pairs import sample_pairs
from siamkit.distances import get_distance
from siamkit.evaluation.retrieval_metrics import retrieval_metrics
from siamkit.evaluation.verification import verification_metrics


@dataclass(frozen=True)
class MetricChange:
    """Quality of reference (PyTorch fp32) and candidate (exported) embeddings of one set.

    Attributes:
        reference_map_at_r, candidate_map_at_r: MAP@R of each.
        reference_roc_auc, candidate_roc_auc: Pair ROC-AUC of each.
        num_items, num_pairs: What was evaluated.
    """

    reference_map_at_r: float
    candidate_map_at_r: float
    reference_roc_auc: float
    candidate_roc_auc: float
    num_items: int
    num_pairs: int

    @property
    def map_at_r_drop(self) -> float:
        """Reference minus candidate MAP@R (positive = the export is worse)."""
        return self.reference_map_at_r - self.candidate_map_at_r

    @property
    def roc_auc_drop(self) -> float:
        """Reference minus candidate ROC-AUC (positive = the export is worse)."""
        return self.reference_roc_auc - self.candidate_roc_auc

    @property
    def worst_drop(self) -> float:
        """The larger of the two drops, in metric units (0.01 = one point)."""
        return max(self.map_at_r_drop, self.roc_auc_drop)

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON, drops included."""
        return {
            "reference_map_at_r": self.reference_map_at_r,
            "candidate_map_at_r": self.candidate_map_at_r,
            "map_at_r_drop": self.map_at_r_drop,
            "reference_roc_auc": self.reference_roc_auc,
            "candidate_roc_auc": self.candidate_roc_auc,
            "roc_auc_drop": self.roc_auc_drop,
            "num_items": self.num_items,
            "num_pairs": self.num_pairs,
        }


def quality(
    embeddings: npt.ArrayLike,
    labels: npt.ArrayLike,
    distance: str,
    num_pairs: int = 20_000,
    seed: int = 0,
) -> tuple[float, float]:
    """``(MAP@R, ROC-AUC)`` of embeddings ``(N, D)`` with labels ``(N,)`` under ``distance``."""
    emb = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    d = get_distance(distance)
    pairs = sample_pairs(y, num_pairs, 0.5, seed)
    scores = d.closeness(d.pairwise(emb[pairs.first], emb[pairs.second])).numpy()
    auc = verification_metrics((1 - pairs.label).numpy(), scores).roc_auc
    return retrieval_metrics(emb, y, distance=d).map_at_r, auc


def metric_change(
    reference: npt.ArrayLike,
    candidate: npt.ArrayLike,
    labels: npt.ArrayLike,
    distance: str,
    num_pairs: int = 20_000,
    seed: int = 0,
) -> MetricChange:
    """Score both embedding sets of the same items and labels (see the module)."""
    ref_map, ref_auc = quality(reference, labels, distance, num_pairs, seed)
    cand_map, cand_auc = quality(candidate, labels, distance, num_pairs, seed)
    return MetricChange(
        reference_map_at_r=ref_map,
        candidate_map_at_r=cand_map,
        reference_roc_auc=ref_auc,
        candidate_roc_auc=cand_auc,
        num_items=int(np.asarray(labels).shape[0]),
        num_pairs=num_pairs,
    )
