"""Changing a gallery: enrolling items, removing them, and re-embedding all with a new model.

:class:`GalleryWrites` holds the writing half of :class:`~siamkit.index.gallery.Gallery`'s
public methods. Inputs are read and embedded first and checked whole; then they are written
in transactions of at most :data:`WRITE_BATCH` items, and the FAISS index follows each one.
A write that fails its checks writes nothing.

Example:
    >>> from siamkit.index import Gallery
    >>> gallery = Gallery.create("gal", "runs/digits")
    >>> gallery.enroll(["people/"])  # one subfolder per identity
    [1, 2, 3, 4, 5, 6]
    >>> gallery.remove_label("one")
    [1, 2, 3]
    >>> len(gallery), gallery.enroll(["c.png"], label="one")  # ids are never reused
    (3, [7])
"""

from __future__ import annotations

import builtins
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.binding import as_embedder, check_threshold, model_meta
from siamkit.index.errors import GalleryError, ModelMismatchError, check_item_id, unknown_label
from siamkit.index.index_follower import IndexFollower
from siamkit.index.inputs import load_group, plan_enroll
from siamkit.index.item_limits import check_label, check_metadata
from siamkit.index.metric import get_metric
from siamkit.index.model_binding import ModelBinding, embed_sources
from siamkit.index.store import SqlStore
from siamkit.index.store_records import NewItem
from siamkit.run import Embedder

WRITE_BATCH = 50_000  # items per transaction in a large enrolment
log = logging.getLogger("siamkit.index")


class DuplicateEnrollWarning(UserWarning):
    """A file enrolled again under the same label (it is stored again, as asked)."""


class GalleryWrites:
    """The gallery's writes; mixed into :class:`~siamkit.index.gallery.Gallery`.

    It writes through the store and keeps the index in step through the parts the gallery
    holds.
    """

    path: Path
    store: SqlStore
    fingerprint: str
    _follower: IndexFollower
    _binding: ModelBinding

    # -- enrolling ------------------------------------------------------------------------------
    def enroll(
        self,
        inputs: str | Sequence[str] | npt.NDArray[np.float32],
        label: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> builtins.list[int]:
        """Embed inputs with the gallery's model and add them; returns the new ids.

        Args:
            inputs: Files, folders (one subfolder per identity when ``label`` is None), CSV
                files (vector rows, or ``path,label`` rows for images), texts for a text model,
                or a batch array of model inputs (``(N, C, H, W)`` / ``(N, F)``).
            label: The identity of every input; None to read identities from folders or CSVs.
            metadata: JSON object stored with every item.

        Raises:
            GalleryError: Unreadable or wrong inputs, named; nothing is written.
        """
        meta = check_metadata(metadata)
        embedder = self._binding.embedder
        if isinstance(inputs, np.ndarray):
            if label is None:
                raise GalleryError("enrolling an array needs a label")
            emb = self._binding.embed(embedder, inputs)
            items = [NewItem(check_label(label), meta, None, "embedding", e) for e in emb]
            return self._write(items, embedder.fingerprint)
        if isinstance(inputs, str):
            inputs = [inputs]
        loader = embedder.load
        items = []
        for group in plan_enroll(list(inputs), label, embedder.kind):
            x, names, labels, source_kind = load_group(group, loader, embedder.kind)
            emb = self._binding.embed(embedder, list(x) if embedder.kind == "text" else x)
            items += [
                NewItem(lab, meta, name, source_kind, e)
                for lab, name, e in zip(labels, names, emb, strict=True)
            ]
        self._check_duplicates(items)
        return self._write(items, embedder.fingerprint)

    def _check_duplicates(self, items: builtins.list[NewItem]) -> None:
        """Warn (log and :class:`DuplicateEnrollWarning`) when a file is enrolled again, in
        this call or before: under the same label it only adds a copy; under another label one
        image becomes two identities, which is said loudest. Both are still stored, as asked
        (a CSV may map one image to two labels on purpose)."""
        first: dict[str, str] = {}
        notes: builtins.list[str] = []
        for it in items:
            if it.source_kind != "file" or it.source is None:
                continue
            if it.source in first:
                notes.append(_repeat(it.source, first[it.source], it.label, None))
            else:
                first[it.source] = it.label
        for item_id, source, label in self.store.items_with_sources(list(first)):
            notes.append(_repeat(source, label, first[source], item_id))
        if notes:
            two = [n for n in notes if "under two labels" in n]
            message = f"{len(notes)} input(s) enrolled more than once: {(two or notes)[0]}" + (
                f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
            )
            log.warning(message)
            warnings.warn(DuplicateEnrollWarning(message), stacklevel=3)

    def enroll_embeddings(
        self,
        embeddings: npt.ArrayLike,
        labels: str | Sequence[str],
        *,
        metadata: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        sources: Sequence[str | None] | None = None,
        fingerprint: str | None = None,
    ) -> builtins.list[int]:
        """Add precomputed embeddings ``(N, D)``; returns the new ids.

        Args:
            embeddings: ``(N, D)`` (or ``(D,)``) from the gallery's model.
            labels: One label for all, or one per row.
            metadata: One JSON object for all, or one per row.
            sources: Optional source per row (a file path or text) for ``reembed``.
            fingerprint: The model that made them; checked against the gallery's when given.

        Raises:
            ModelMismatchError: ``fingerprint`` is another model's.
            GalleryError: Wrong shape, NaN, empty or mismatched labels; nothing is written.
        """
        if fingerprint is not None and fingerprint != self.fingerprint:
            raise ModelMismatchError(
                f"embeddings of model {fingerprint} cannot join this gallery of model "
                f"{self.fingerprint}; embed with the gallery's model"
            )
        emb = self._binding.check(np.asarray(embeddings, dtype=np.float32))
        n = len(emb)
        labs = [labels] * n if isinstance(labels, str) else list(labels)
        if len(labs) != n:
            raise GalleryError(f"{n} embeddings but {len(labs)} labels; give one label per row")
        labs = [check_label(lab) for lab in labs]
        if metadata is None or isinstance(metadata, dict):
            metas = [check_metadata(metadata)] * n
        else:
            metas = [check_metadata(m) for m in metadata]
            if len(metas) != n:
                raise GalleryError(f"{n} embeddings but {len(metas)} metadata objects")
        srcs = list(sources) if sources is not None else [None] * n
        if len(srcs) != n:
            raise GalleryError(f"{n} embeddings but {len(srcs)} sources")
        items = [
            NewItem(lab, m, s, "embedding" if s is None else "file", e)
            for lab, m, s, e in zip(labs, metas, srcs, emb, strict=True)
        ]
        return self._write(items, self.fingerprint)

    def _write(self, items: builtins.list[NewItem], fingerprint: str) -> builtins.list[int]:
        if not items:
            raise GalleryError("nothing to enroll: the inputs hold no items")
        for it in items:  # labels from folder names and CSV rows too
            check_label(it.label)
        ids: builtins.list[int] = []
        for i in range(0, len(items), WRITE_BATCH):
            ids += self.store.add(items[i : i + WRITE_BATCH], fingerprint).ids
            self._follower.sync()
        return ids

    # -- removing -------------------------------------------------------------------------------
    def remove(self, ids: int | Sequence[int]) -> builtins.list[int]:
        """Remove items by id; returns the ids removed.

        Raises:
            UnknownItemError: An id not in the gallery (or outside ``1 .. 2**63 - 1``); nothing
                is removed.
        """
        wanted = [check_item_id(i) for i in ([ids] if isinstance(ids, int) else list(ids))]
        removed = self.store.remove(wanted).ids
        self._follower.sync()
        return removed

    def remove_label(self, label: str) -> builtins.list[int]:
        """Remove every item of one identity; returns the ids removed.

        Raises:
            UnknownLabelError: No item has this label.
        """
        ids = [it.id for it in self.store.list_items(label, limit=1 << 62, offset=0)]
        if not ids:
            raise unknown_label(label, self.store.label_counts())
        return self.remove(ids)

    # -- changing the model ---------------------------------------------------------------------
    def reembed(self, model: str | Path | Embedder, threshold: float | None = None) -> int:
        """Re-embed every item from its stored source with another model; returns the count.

        All items are read and embedded first; the new embeddings, fingerprint and threshold
        replace the old in one transaction, and the index is rebuilt.

        Raises:
            GalleryError: A NaN, infinite or negative ``threshold``, an item without a source
                (enrolled as an embedding or array) or whose source cannot be read; nothing is
                changed.
        """
        embedder = as_embedder(model)
        get_metric(embedder.distance)
        if threshold is not None:  # before any item is read
            check_threshold(threshold, embedder.distance)
        rows = self.store.sources()
        lost = [i for i, s, kind in rows if s is None or kind not in ("file", "text")]
        if lost:
            raise GalleryError(
                f"items {', '.join(map(str, lost[:10]))}{' ...' if len(lost) > 10 else ''} were "
                "enrolled as embeddings or arrays and have no source to re-embed; remove them "
                "first (`siamkit gallery remove`) or enroll from files"
            )
        ids = [i for i, _, _ in rows]
        if not ids:
            emb = np.zeros((0, embedder.embedding_dim), np.float32)
        elif embedder.kind == "text":
            emb = np.asarray(embedder.embed([str(s) for _, s, _ in rows]), dtype=np.float32)
        else:
            emb = embed_sources(embedder, [str(s) for _, s, _ in rows])
        meta = model_meta(embedder, threshold, self.path)
        self.store.replace_embeddings(ids, emb, embedder.fingerprint, meta)
        self._binding.loaded = None
        self._follower.sync()
        self._binding.loaded = embedder
        return len(ids)


def _repeat(source: str, before: str, now: str, item_id: int | None) -> str:
    where = f"item {item_id}" if item_id is not None else "earlier in this enrolment"
    if before == now:
        return f"{source} is already enrolled as '{before}' ({where}); this adds a copy"
    return (
        f"{source} is enrolled under two labels, '{before}' ({where}) and '{now}'; one image "
        f"now shows two identities: remove one (`siamkit gallery remove DIR ID`) unless meant"
    )
