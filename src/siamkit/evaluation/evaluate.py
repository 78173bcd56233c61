"""Evaluate a twin network on a labelled set: verification on pairs, retrieval on items."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import sample_pairs
from siamkit.evaluation.retrieval import precision_at_1
from siamkit.evaluation.verification import verification_metrics
from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork


@dataclass
class EvalMetrics:
    """Figures of one evaluation.

    Attributes:
        precision_at_1: Leave-one-out nearest-neighbour precision.
        roc_auc, eer: On balanced pairs drawn from the set.
        threshold: Distance threshold (same if distance <= threshold; >= for similarities):
            the one given, else the best-accuracy one on these pairs.
        accuracy: Pair accuracy at ``threshold``.
        num_items, num_classes, num_pairs: What was evaluated.
    """

    precision_at_1: float
    roc_auc: float
    eer: float
    threshold: float
    accuracy: float
    num_items: int
    num_classes: int
    num_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON."""
        return asdict(self)


@torch.no_grad()
def evaluate_model(
    model: SiameseNetwork,
    data: LabelledData,
    threshold: float | None = None,
    num_pairs: int = 20_000,
    seed: int = 0,
    batch_size: int = 512,
    device: str | torch.device = "cpu",
) -> EvalMetrics:
    """Embed ``data`` and compute :class:`EvalMetrics`.

    Args:
        model: The trained network.
        data: Items with labels (at least 2 classes, one of them with 2+ items).
        threshold: A calibrated distance threshold to report accuracy at; None picks the best
            on these pairs (optimistic: use only for validation).
        num_pairs: Balanced pairs drawn for verification.
    """
    if len(torch.unique(data.y)) < 2:
        raise ValueError("evaluation needs items of at least 2 classes")
    emb = embed_all(model, data.x, batch_size, device)
    dist = model.distance
    pairs = sample_pairs(data.y, num_pairs, 0.5, seed)
    values = dist.pairwise(emb[pairs.first], emb[pairs.second])
    scores = dist.closeness(values).numpy()
    same = (1 - pairs.label).numpy()
    v = verification_metrics(same, scores)
    # Scores are closeness; back to the distance's units for the threshold.
    sign = 1.0 if dist.larger_is_closer else -1.0
    if threshold is None:
        threshold = sign * v.best_threshold
    accuracy = float(((scores >= sign * threshold) == (same == 1)).mean())
    return EvalMetrics(
        precision_at_1=precision_at_1(emb, data.y, dist),
        roc_auc=v.roc_auc,
        eer=v.eer,
        threshold=float(threshold),
        accuracy=accuracy,
        num_items=len(data),
        num_classes=len(torch.unique(data.y)),
        num_pairs=num_pairs,
    )
