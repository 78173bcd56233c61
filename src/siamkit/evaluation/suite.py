"""The whole evaluation of a model on held-out classes, in one call and one JSON object.

Verification (with bootstrap intervals), retrieval, few-shot, classification from embeddings,
a comparison of every registered distance, and open-set identification, all on the same
embeddings; nothing here ever trains or selects a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import Pairs, sample_pairs
from siamkit.distances import DISTANCES, Distance, get_distance, is_learned
from siamkit.evaluation.classification import ClassificationMetrics, classify_and_score
from siamkit.evaluation.few_shot import FewShotResult, few_shot_suite
from siamkit.evaluation.open_set import (
    OpenSetMetrics,
    gallery_probe_split,
    open_set_identification,
)
from siamkit.evaluation.retrieval_metrics import RetrievalMetrics, retrieval_metrics
from siamkit.evaluation.verification import VerificationReport, verification_report
from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork


@dataclass
class DistanceRow:
    """The same embeddings scored under one registered distance."""

    distance: str
    roc_auc: float
    eer: float
    precision_at_1: float
    map_at_r: float


@dataclass
class EvaluationSuite:
    """Every figure of one evaluation, and what the report needs to draw it.

    Attributes:
        distance: The model's distance, used for every figure but the distance table.
        verification: Pair figures with 95% bootstrap intervals.
        retrieval: Leave-one-out retrieval over the evaluated items.
        few_shot: N-way K-shot rows.
        classification: ``knn`` and ``prototype`` accuracy / macro-F1 (half of each class as
            reference, half as test).
        distances: One row per registered fixed distance (learned ones need training).
        open_set: Gallery of known identities, probes including unknown ones, at the threshold.
        embeddings, labels, pairs, pair_distances: Kept for plots; not serialised.
    """

    distance: str
    threshold: float | None
    num_items: int
    num_classes: int
    verification: VerificationReport
    retrieval: RetrievalMetrics
    few_shot: list[FewShotResult]
    classification: dict[str, ClassificationMetrics]
    distances: list[DistanceRow]
    open_set: OpenSetMetrics | None
    metric: Distance = field(repr=False)  # the model's distance object (learned ones included)
    embeddings: Tensor = field(repr=False)
    labels: Tensor = field(repr=False)
    pairs: Pairs = field(repr=False)
    pair_distances: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (no arrays)."""
        out: dict[str, Any] = {
            "distance": self.distance,
            "threshold": self.threshold,
            "num_items": self.num_items,
            "num_classes": self.num_classes,
            "verification": self.verification.as_dict(),
            "retrieval": self.retrieval.as_dict(),
            "few_shot": [r._asdict() for r in self.few_shot],
            "classification": {k: v._asdict() for k, v in self.classification.items()},
            "distances": [vars(r) for r in self.distances],
        }
        if self.open_set is not None:
            out["open_set"] = {
                "rank1": self.open_set.rank1,
                "num_mated": self.open_set.num_mated,
                "num_non_mated": self.open_set.num_non_mated,
                "at_fpir": [p._asdict() for p in self.open_set.at_fpir],
                "at_threshold": (
                    None
                    if self.open_set.at_threshold is None
                    else self.open_set.at_threshold._asdict()
                ),
            }
        return out


KNN_K = 5  # neighbours that vote in the k-NN classification figure


def _half_split(labels: Tensor, seed: int) -> tuple[Tensor, Tensor]:
    """Half of each class as reference, the rest as test (classes with < 2 items: reference)."""
    g = torch.Generator().manual_seed(seed)
    ref, test = [], []
    for c in torch.unique(labels).tolist():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        half = max(1, len(idx) // 2)
        ref.append(idx[:half])
        test.append(idx[half:])
    return torch.cat(ref), torch.cat(test)


def _distance_table(emb: Tensor, labels: Tensor, pairs: Pairs) -> list[DistanceRow]:
    rows = []
    same = (1 - pairs.label).numpy()
    for name in (n for n in DISTANCES.names() if not is_learned(n)):
        d = get_distance(name)
        scores = d.closeness(d.pairwise(emb[pairs.first], emb[pairs.second])).numpy()
        v = verification_report(same, scores, n_boot=0)
        r = retrieval_metrics(emb, labels, distance=d, ks=(1,))
        rows.append(DistanceRow(name, v.roc_auc.value, v.eer.value, r.precision_at_1, r.map_at_r))
    return rows


def _open_set(
    emb: Tensor, labels: Tensor, d: Distance, threshold: float | None, seed: int
) -> OpenSetMetrics | None:
    if len(torch.unique(labels)) < 3:
        return None  # needs known and unknown identities with probes of both
    split = gallery_probe_split(labels, unknown_fraction=0.4, gallery_per_class=1, seed=seed)
    return open_set_identification(
        emb[split.gallery],
        labels[split.gallery],
        emb[split.probe],
        labels[split.probe],
        distance=d,
        threshold=threshold,
    )


@torch.no_grad()
def evaluate_suite(
    model: SiameseNetwork,
    data: LabelledData,
    threshold: float | None = None,
    num_pairs: int = 20_000,
    n_boot: int = 200,
    episodes: int = 600,
    seed: int = 0,
    device: str | torch.device = "cpu",
    embeddings: Tensor | None = None,
) -> EvaluationSuite:
    """Evaluate ``model`` on ``data`` (normally classes it never saw).

    Args:
        model: The trained network (its distance is used throughout).
        data: Labelled items, at least 2 classes.
        threshold: The run's calibrated distance threshold (for FAR/FRR and open-set answers).
        num_pairs: Balanced pairs for verification (half same, half different).
        n_boot: Bootstrap resamples for the verification intervals.
        episodes: Few-shot episodes per configuration.
        seed: Fixes pairs, episodes and splits.
        embeddings: Precomputed ``(N, D)`` embeddings of ``data`` (skips embedding).
    """
    if len(torch.unique(data.y)) < 2:
        raise ValueError("evaluation needs items of at least 2 classes")
    emb = embeddings if embeddings is not None else embed_all(model, data.x, device=device)
    labels = data.y
    d = model.distance
    pairs = sample_pairs(labels, num_pairs, 0.5, seed)
    pair_d = d.pairwise(emb[pairs.first], emb[pairs.second])
    sign = 1.0 if d.larger_is_closer else -1.0
    verification = verification_report(
        (1 - pairs.label).numpy(),
        d.closeness(pair_d).numpy(),
        threshold=None if threshold is None else sign * threshold,
        n_boot=n_boot,
        seed=seed,
    )
    verification.threshold = threshold  # report it in distance units
    ref, test = _half_split(labels, seed)
    # 5 neighbours, or as many as the smallest class has reference items (a handful of photos):
    # more would let the larger class outvote the embeddings
    k = max(1, min(KNN_K, int(torch.unique(labels[ref], return_counts=True)[1].min())))
    classification = {
        method: classify_and_score(
            emb[ref], labels[ref], emb[test], labels[test], method=method, distance=d, k=k
        )
        for method in ("knn", "prototype")
    }
    try:
        few_shot = few_shot_suite(emb, labels, d, episodes=episodes, seed=seed)
    except ValueError:
        few_shot = []  # fewer than 5 classes with 2+ items
    return EvaluationSuite(
        distance=d.name,
        threshold=threshold,
        num_items=len(data),
        num_classes=int(len(torch.unique(labels))),
        verification=verification,
        retrieval=retrieval_metrics(emb, labels, distance=d),
        few_shot=few_shot,
        classification=classification,
        distances=_distance_table(emb, labels, pairs),
        open_set=_open_set(emb, labels, d, threshold, seed),
        metric=d,
        embeddings=emb,
        labels=labels,
        pairs=pairs,
        pair_distances=pair_d.numpy(),
    )
