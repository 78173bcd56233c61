"""Reading a gallery and querying it: items, counts, identification, verification, neighbours.

:class:`GalleryQueries` holds the read-only half of :class:`~siamkit.index.gallery.Gallery`'s
public methods. Every query first brings the FAISS index up to date with the store, then
decides by the gallery's one rule: a match is accepted when its distance is ``<= threshold``,
with P(same) from the calibrated probability map when the model has one.

Example:
    >>> from siamkit.index import Gallery
    >>> gallery = Gallery.create("gal", "runs/digits", threshold=0.6)
    >>> gallery.enroll(["people/"])  # identities "one" and "zero"
    [1, 2, 3, 4, 5, 6]
    >>> [c.label for c in gallery.identify(["a.png"], k=3)[0].candidates]  # closest first
    ['zero', 'one']
    >>> [v.same for v in gallery.verify(["a.png", "c.png"], "zero")]
    [True, False]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.errors import GalleryError, UnknownItemError, check_item_id, unknown_label
from siamkit.index.index_follower import IndexFollower
from siamkit.index.metric import Metric
from siamkit.index.model_binding import ModelBinding
from siamkit.index.postgres_store import redact
from siamkit.index.results import (
    Candidate,
    GalleryStats,
    Identification,
    Item,
    Neighbour,
    Verification,
)
from siamkit.index.store import SqlStore
from siamkit.run import accepts

POLICIES = ("max", "mean")


class GalleryQueries:
    """The gallery's reads and queries; mixed into :class:`~siamkit.index.gallery.Gallery`.

    It reads the store and the index through the parts the gallery holds, and the gallery's
    current settings from its attributes.
    """

    path: Path
    store: SqlStore
    embedding_dim: int
    distance: str
    kind: str
    fingerprint: str
    model: str
    metric: Metric
    threshold: float
    _probability: Any
    _follower: IndexFollower
    _binding: ModelBinding

    # -- reading --------------------------------------------------------------------------------
    def get(self, item_id: int) -> Item:
        """One item, with its embedding.

        Raises:
            UnknownItemError: No such id (also for ids outside ``1 .. 2**63 - 1``).
        """
        item_id = check_item_id(item_id)
        found = self.store.get([item_id])
        if not found:
            raise UnknownItemError(
                f"no item with id {item_id} in this gallery; `siamkit gallery list DIR` shows ids"
            )
        return found[0]

    def list(
        self, label: str | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[Item]:
        """Items by id, without embeddings; optionally only one identity's."""
        return self.store.list_items(label, limit, offset)

    def stats(self) -> GalleryStats:
        """Counts and settings."""

        counts = self.store.label_counts()
        index = self._follower.fresh()
        return GalleryStats(
            path=str(self.path),
            store="sqlite" if self.store.dialect == "sqlite" else redact(self.store.url),
            items=sum(n for _, n in counts),
            identities=len(counts),
            embedding_dim=self.embedding_dim,
            distance=self.distance,
            kind=self.kind,
            fingerprint=self.fingerprint,
            model=self.model,
            index=index.kind,
            threshold=self.threshold,
            schema_version=self.store.schema_version(),
            largest_identities=counts[:10],
        )

    def __len__(self) -> int:
        return self.store.state().count

    def require_model(self, fingerprint: str) -> None:
        """Check, against the store as it is now, that the gallery still holds embeddings of
        model ``fingerprint`` (a long-running service calls this before each gallery call).

        Raises:
            GalleryReembeddedError: It was re-embedded with another model, here or in another
                process (``siamkit gallery reembed``); the message names the new model.
        """
        self._follower.fresh()  # re-reads the settings when the store's model changed
        self._binding.require(fingerprint)

    # -- querying -------------------------------------------------------------------------------
    def _query_embeddings(
        self, inputs: str | Sequence[str] | npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        self._follower.fresh()  # a re-embed elsewhere changes the model to embed with
        embedder = self._binding.embedder
        self._binding.require(embedder.fingerprint)
        if isinstance(inputs, np.ndarray):
            return self._binding.embed(embedder, inputs)
        if isinstance(inputs, str):
            inputs = [inputs]
        if embedder.kind == "text":
            for t in inputs:
                if not isinstance(t, str) or not t.strip():
                    raise GalleryError("cannot query with an empty text; give some words")
            return self._binding.embed(embedder, list(inputs))
        try:
            x, _ = embedder.load(list(inputs))
        except ValueError as e:
            raise GalleryError(str(e)) from None
        return self._binding.embed(embedder, x)

    def _probabilities(self, distances: npt.NDArray[np.float64]) -> builtins.list[float | None]:
        if self._probability is None:
            return [None] * len(distances)
        return [float(p) for p in self._probability.predict(distances)]

    def identify(
        self, inputs: str | Sequence[str] | npt.NDArray[np.float32], k: int = 5
    ) -> builtins.list[Identification]:
        """Open-set identification of each input: up to ``k`` identities, or unknown.

        Args:
            inputs: Files, texts or a batch array, as for :meth:`enroll`.
            k: Identities to rank per input.
        """
        return self.identify_embeddings(self._query_embeddings(inputs), k)

    def identify_embeddings(
        self, embeddings: npt.ArrayLike, k: int = 5
    ) -> builtins.list[Identification]:
        """:meth:`identify` for query embeddings ``(Q, D)`` from the gallery's model."""
        if k < 1:
            raise GalleryError(f"k must be >= 1; got {k}")
        q = self._binding.check(np.asarray(embeddings, dtype=np.float32))
        index = self._follower.fresh()
        if index.count == 0:
            return [Identification(None, True, [], self.threshold) for _ in range(len(q))]
        fetch = min(k if k == 1 else 4 * k, index.count)
        hits = index.search(q, fetch)
        results = []
        for row in range(len(q)):
            ids, labels, dist = hits.ids[row], hits.labels[row], hits.distances[row]
            best = _closest_per_label(ids, labels, dist, k)
            n_fetch = fetch
            while len(best) < k and n_fetch < index.count:  # many items of few identities
                n_fetch = min(n_fetch * 4, index.count)
                more = index.search(q[row : row + 1], n_fetch)
                best = _closest_per_label(more.ids[0], more.labels[0], more.distances[0], k)
            d = np.array([b[1] for b in best], dtype=np.float64)
            probs = self._probabilities(d)
            candidates = [
                Candidate(lab, float(dd), p, item, bool(accepts(dd, self.threshold)))
                for (lab, dd, item), p in zip(best, probs, strict=True)
            ]
            top = candidates[0] if candidates else None
            known = top is not None and top.accepted
            results.append(
                Identification(
                    top.label if known and top else None, not known, candidates, self.threshold
                )
            )
        return results

    def verify(
        self,
        inputs: str | Sequence[str] | npt.NDArray[np.float32],
        label: str,
        policy: str = "max",
    ) -> builtins.list[Verification]:
        """1:1 verification of each input against the items of identity ``label``.

        Args:
            inputs: Files, texts or a batch array, as for :meth:`enroll`.
            label: The claimed identity.
            policy: ``max``: the closest of the identity's items decides; ``mean``: the mean
                distance to them does.

        Raises:
            UnknownLabelError: No item has this label.
        """
        return self.verify_embeddings(self._query_embeddings(inputs), label, policy)

    def verify_embeddings(
        self, embeddings: npt.ArrayLike, label: str, policy: str = "max"
    ) -> builtins.list[Verification]:
        """:meth:`verify` for query embeddings ``(Q, D)`` from the gallery's model."""
        if policy not in POLICIES:
            raise GalleryError(f"unknown policy '{policy}'; choose one of: {', '.join(POLICIES)}")
        q = self._binding.check(np.asarray(embeddings, dtype=np.float32))
        items = self.store.items_of_label(label)
        if not items:
            raise unknown_label(label, self.store.label_counts())
        gallery = np.stack([it.embedding for it in items if it.embedding is not None])  # (M, D)
        dist = self.metric.pairwise(q, gallery)  # (Q, M)
        agg = dist.min(axis=1) if policy == "max" else dist.mean(axis=1)  # (Q,)
        probs = self._probabilities(agg)
        return [
            Verification(
                label,
                bool(accepts(d, self.threshold)),
                float(d),
                p,
                policy,
                len(items),
                self.threshold,
            )
            for d, p in zip(agg, probs, strict=True)
        ]

    def similar(self, item_id: int, k: int = 10) -> builtins.list[Neighbour]:
        """The ``k`` items nearest to an enrolled item (itself left out): recommendations.

        Raises:
            UnknownItemError: No such id.
        """
        if k < 1:
            raise GalleryError(f"k must be >= 1; got {k}")
        item = self.get(item_id)
        index = self._follower.fresh()
        assert item.embedding is not None
        hits = index.search(item.embedding[None, :], min(k + 1, max(index.count, 1)))
        out = [
            Neighbour(int(i), lab, float(d))
            for i, lab, d in zip(hits.ids[0], hits.labels[0], hits.distances[0], strict=False)
            if int(i) != item.id and i >= 0
        ]
        return out[:k]


def _closest_per_label(
    ids: np.ndarray, labels: builtins.list[str], dist: np.ndarray, k: int
) -> builtins.list[tuple[str, float, int]]:
    """(label, distance, item id) of the first (closest) hit of each label, up to ``k``."""
    best: builtins.list[tuple[str, float, int]] = []
    seen: set[str] = set()
    for i, lab, d in zip(ids, labels, dist, strict=False):
        if i < 0 or lab in seen:
            continue
        seen.add(lab)
        best.append((lab, float(d), int(i)))
        if len(best) == k:
            break
    return best
