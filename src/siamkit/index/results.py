"""What gallery calls return: items, identification and verification results, statistics.

Distances are in the gallery model's own distance units (those of its calibrated threshold);
smaller is closer for every distance a gallery supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Item:
    """One enrolled item.

    Attributes:
        id: Stable id (never reused after removal).
        label: The identity it belongs to.
        metadata: Free JSON object given at enrolment.
        source: The file (absolute path; ``file.csv:ROW`` or ``file.npy[I]`` for one row of a
            vector file) or the text it was embedded from; None for precomputed embeddings.
        source_kind: ``file``, ``text`` or ``embedding``.
        fingerprint: The model that embedded it.
        created_at: UTC time of enrolment, ISO 8601.
        embedding: ``(D,)`` float32, or None where not asked for.
    """

    id: int
    label: str
    metadata: dict[str, Any]
    source: str | None
    source_kind: str
    fingerprint: str
    created_at: str
    embedding: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Candidate:
    """One identity proposed for a query.

    Attributes:
        label: The identity.
        distance: Distance to its closest item (smaller is closer).
        probability: P(same identity) from the run's calibration, or None without one.
        item_id: Its closest item.
        accepted: Whether ``distance`` is within the gallery's threshold.
    """

    label: str
    distance: float
    probability: float | None
    item_id: int
    accepted: bool


@dataclass(frozen=True)
class Identification:
    """Open-set identification of one query: the ranked identities, or unknown.

    Attributes:
        label: The best identity when it is within the threshold; None means unknown.
        unknown: True when even the closest identity is beyond the threshold (or the gallery is
            empty).
        candidates: Up to ``k`` identities, closest first, accepted or not.
        threshold: The threshold applied.
    """

    label: str | None
    unknown: bool
    candidates: list[Candidate]
    threshold: float


@dataclass(frozen=True)
class Verification:
    """1:1 verification of one query against one identity's items.

    Attributes:
        label: The claimed identity.
        same: Whether the query is accepted as that identity.
        distance: ``max`` policy: distance to the closest item; ``mean``: mean distance.
        probability: P(same) of ``distance`` from the run's calibration, or None.
        policy: ``max`` or ``mean``.
        items: How many items the identity has.
        threshold: The threshold applied.
    """

    label: str
    same: bool
    distance: float
    probability: float | None
    policy: str
    items: int
    threshold: float


@dataclass(frozen=True)
class Neighbour:
    """An item near another one (``Gallery.similar``): a recommendation.

    Attributes:
        item_id: The neighbour.
        label: Its identity.
        distance: Distance to the asked item.
    """

    item_id: int
    label: str
    distance: float


@dataclass(frozen=True)
class GalleryStats:
    """What a gallery holds and how it searches.

    Attributes:
        path: The gallery directory.
        store: ``sqlite`` or the PostgreSQL URL without its password.
        items: Items enrolled.
        identities: Distinct labels.
        embedding_dim: D.
        distance: The model's distance.
        kind: What the model embeds (``image``, ``vector``, ``text``).
        fingerprint: The model's fingerprint.
        model: The run directory the gallery was created from ('' if none).
        index: ``flat`` (exact) or ``hnsw``.
        threshold: The identification / verification threshold.
        schema_version: The store's schema version.
        largest_identities: Up to 10 (label, items) pairs, most items first.
    """

    path: str
    store: str
    items: int
    identities: int
    embedding_dim: int
    distance: str
    kind: str
    fingerprint: str
    model: str
    index: str
    threshold: float
    schema_version: int
    largest_identities: list[tuple[str, int]]
