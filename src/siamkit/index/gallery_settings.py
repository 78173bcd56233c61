"""A gallery's settings as its store records them: model, distance, search and decision rule.

They are read when a gallery opens and again whenever the store's model changes (a re-embed,
here or in another process), so every part of a gallery reads them through the gallery rather
than keeping its own copy.

Example:
    >>> from siamkit.index import Gallery
    >>> store = Gallery.create("gal", "runs/digits", threshold=0.6).store
    >>> settings = GallerySettings.from_meta(store.meta(), index_config=None, threshold=None)
    >>> settings.kind, settings.embedding_dim, settings.metric.name, settings.threshold
    ('image', 16, 'euclidean', 0.6)
    >>> GallerySettings.from_meta(store.meta(), None, threshold=0.5).threshold  # an override
    0.5
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from siamkit.index.binding import check_threshold
from siamkit.index.metric import Metric, get_metric
from siamkit.index.vector_index import IndexConfig
from siamkit.run import ProbabilityMap

if TYPE_CHECKING:
    from siamkit.run import ProbabilityMap


@dataclass(frozen=True)
class GallerySettings:
    """The settings of one gallery, with the caller's overrides applied.

    Attributes:
        meta: Every stored setting, as text.
        fingerprint: The model whose embeddings the gallery holds.
        embedding_dim: D, the size of one embedding.
        kind: What the model embeds (``image``, ``vector`` or ``text``).
        distance: The registered distance name.
        metric: The searchable form of ``distance``.
        model: The model's run directory ("" when created from an Embedder object).
        index_config: How to search (the override when one was given).
        threshold: Accept a match when its distance is ``<= threshold`` (the override when given).
        probability: Distance -> P(same), when the model was calibrated; else None.
    """

    meta: dict[str, str]
    fingerprint: str
    embedding_dim: int
    kind: str
    distance: str
    metric: Metric
    model: str
    index_config: IndexConfig
    threshold: float
    probability: ProbabilityMap | None

    @classmethod
    def from_meta(
        cls, meta: dict[str, str], index_config: IndexConfig | None, threshold: float | None
    ) -> GallerySettings:
        """Settings from the store's ``meta`` table, overridden by the caller's when not None.

        Raises:
            ValueError: The stored distance cannot be searched.
        """
        fingerprint = meta["fingerprint"]
        embedding_dim = int(meta["embedding_dim"])
        metric = get_metric(meta["distance"])
        config = index_config or IndexConfig.from_meta(meta)
        thr = (
            float(meta["threshold"])
            if threshold is None
            else check_threshold(threshold, meta["distance"])
        )
        probability: Any = None
        if meta.get("calibration"):
            record = json.loads(meta["calibration"])
            probability = ProbabilityMap.from_dict(record["probability_map"])
        return cls(
            meta=meta,
            fingerprint=fingerprint,
            embedding_dim=embedding_dim,
            kind=meta["kind"],
            distance=meta["distance"],
            metric=metric,
            model=meta.get("model", ""),
            index_config=config,
            threshold=thr,
            probability=probability,
        )
