"""The gallery: enroll known items, then identify, verify and recommend against them.

A gallery is a directory::

    DIR/gallery.json        which store holds it (``sqlite`` or a PostgreSQL URL)
    DIR/gallery.db          the SQLite store (WAL mode): the truth
    DIR/index-flat.npz      the FAISS index (or index-hnsw.npz), rebuilt when missing or stale

The store holds every item (label, metadata, source, float32 embedding, model fingerprint,
time) and the gallery's model settings and threshold. The FAISS index is a cache of it: before
each query the gallery compares the store's change counter with the index's and applies what
changed (new ids, the removal log); a saved index whose count or id checksum does not match the
store is rebuilt. Several processes, or several replicas sharing one PostgreSQL store, each keep
their own index in step this way.

Example:
    >>> g = Gallery.create("gal", "runs/digits")
    >>> g.enroll(["alice/"], label="alice")
    >>> g.identify(["probe.png"], k=3)[0].label  # None when unknown
    'alice'
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.errors import (
    GalleryError,
    ModelMismatchError,
    NotAGalleryError,
    UnknownItemError,
    UnknownLabelError,
)
from siamkit.index.inputs import check_label, load_group, plan_enroll, source_file
from siamkit.index.metric import Metric, get_metric
from siamkit.index.results import (
    Candidate,
    GalleryStats,
    Identification,
    Item,
    Neighbour,
    Verification,
)
from siamkit.index.store import NewItem, SqlStore, now_utc, open_store
from siamkit.index.vector_index import IndexConfig, VectorIndex
from siamkit.run import Embedder

GALLERY_FILE = "gallery.json"
DB_FILE = "gallery.db"
FORMAT = "siamkit-gallery"
POLICIES = ("max", "mean")
WRITE_BATCH = 50_000  # items per transaction in a large enrolment


class Gallery:
    """A persistent gallery of embeddings with a FAISS index; safe to share between threads.

    Make one with :meth:`create`, reopen it with :meth:`open`; close it (or use ``with``) to
    keep its index for the next open.

    Attributes:
        path: The gallery directory.
        store: The database.
        index_config: How it searches.
        threshold: Accept a match when its distance is ``<= threshold``.
    """

    def __init__(
        self,
        path: Path,
        store: SqlStore,
        index_config: IndexConfig | None,
        threshold: float | None,
        sync_interval: float,
    ) -> None:
        self.path = path
        self.store = store
        self._threshold_override = threshold
        self._config_override = index_config
        self.sync_interval = sync_interval
        self._sync_lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._dirty = False
        self._last_check = 0.0
        self._load_meta()

    # -- settings -------------------------------------------------------------------------------
    def _load_meta(self) -> None:
        meta = self.store.meta()
        self.meta = meta
        self.fingerprint = meta["fingerprint"]
        self.embedding_dim = int(meta["embedding_dim"])
        self.store.dim = self.embedding_dim
        self.kind = meta["kind"]
        self.distance = meta["distance"]
        self.metric: Metric = get_metric(self.distance)
        self.model = meta.get("model", "")
        self.index_config = self._config_override or IndexConfig.from_meta(meta)
        thr = self._threshold_override
        self.threshold = float(meta["threshold"]) if thr is None else float(thr)
        self._probability: Any = None
        if meta.get("calibration"):
            from siamkit.run import ProbabilityMap

            record = json.loads(meta["calibration"])
            self._probability = ProbabilityMap.from_dict(record["probability_map"])

    # -- creating and opening -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        model: str | Path | Embedder,
        *,
        store: str | None = None,
        index: IndexConfig | None = None,
        threshold: float | None = None,
    ) -> Gallery:
        """Create a gallery for one model.

        Args:
            path: The directory to create (must not exist, or be empty).
            model: A run directory, or any :class:`~siamkit.run.Embedder`.
            store: None for SQLite inside ``path``; a ``postgresql://`` URL for a shared store.
                If that database already holds a gallery of the same model, this joins it (one
                directory per replica); of another model, it is refused.
            index: How to search (default: exact up to 100k items, HNSW beyond).
            threshold: The identification threshold; default: the run's calibrated threshold
                (``siamkit calibrate``), else its validation threshold.

        Raises:
            GalleryError: ``path`` is not empty, no threshold is known, or the model's distance
                cannot be searched; nothing is created.
            ModelMismatchError: The shared store holds a gallery of another model.
        """
        path = Path(path)
        embedder = _as_embedder(model)
        get_metric(embedder.distance)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise GalleryError(f"{path} already exists and is not empty; choose a new directory")
        meta = _model_meta(embedder, threshold)
        meta.update((index or IndexConfig()).to_meta())
        meta["created_at"] = now_utc()
        if store is None:
            tmp = path.with_name(f".{path.name}.creating-{uuid.uuid4().hex[:8]}")
            tmp.mkdir(parents=True)
            try:
                db = open_store(f"sqlite:{tmp / DB_FILE}")
                db.initialize(meta)
                db.close()
                _write_json(tmp / GALLERY_FILE, {"format": FORMAT, "store": "sqlite"})
                if path.exists():
                    path.rmdir()
                os.replace(tmp, path)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            db = open_store(store)
            try:
                if not db.initialize(meta):
                    db.check_schema(store)
                    existing = db.meta()["fingerprint"]
                    if existing != embedder.fingerprint:
                        raise ModelMismatchError(
                            f"the store already holds a gallery of model {existing}; this model "
                            f"is {embedder.fingerprint}; join it with the same run, or re-embed "
                            "it first"
                        )
            finally:
                db.close()
            path.mkdir(parents=True, exist_ok=True)
            _write_json(path / GALLERY_FILE, {"format": FORMAT, "store": store})
        return cls.open(path, embedder=embedder, index=index)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        embedder: str | Path | Embedder | None = None,
        index: IndexConfig | None = None,
        threshold: float | None = None,
        sync_interval: float = 0.0,
    ) -> Gallery:
        """Open a gallery directory and bring its index up to date with the store.

        Args:
            path: A directory made by :meth:`create`.
            embedder: The model to embed inputs with (a run directory or an Embedder); default:
                the run directory the gallery was created from, loaded when first needed. Must
                be the gallery's model (same fingerprint).
            index: Override the stored search settings (e.g. ``IndexConfig(kind="hnsw")``);
                each kind keeps its own index file.
            threshold: Override the stored threshold.
            sync_interval: Seconds between freshness checks against the store (0: before every
                query; raise it for a remote PostgreSQL store under heavy load).

        Raises:
            NotAGalleryError: ``path`` is not a gallery.
            SchemaTooNewError: Written by a newer siamkit; nothing is changed.
            ModelMismatchError: ``embedder`` is another model.
        """
        path = Path(path)
        config_file = path / GALLERY_FILE
        if not config_file.is_file():
            raise NotAGalleryError(
                f"{path} is not a gallery (no {GALLERY_FILE}); create one with "
                f"`siamkit gallery create {path} --model RUN_DIR`"
            )
        try:
            config = json.loads(config_file.read_text())
            ok = isinstance(config, dict) and config.get("format") == FORMAT
        except json.JSONDecodeError:
            ok = False
        if not ok:
            raise NotAGalleryError(f"{config_file} is not a siamkit gallery file")
        if config["store"] == "sqlite":
            db_file = path / DB_FILE
            if not db_file.is_file():
                raise NotAGalleryError(f"{path} has no {DB_FILE}; the gallery is incomplete")
            url = f"sqlite:{db_file}"
        else:
            url = str(config["store"])
        store = open_store(url)
        try:
            store.check_schema(str(path))
            gallery = cls(path, store, index, threshold, sync_interval)
            if embedder is not None:
                gallery._set_embedder(_as_embedder(embedder))
            gallery._start_index()
        except BaseException:
            store.close()
            raise
        return gallery

    def close(self) -> None:
        """Save the index if it changed, and close the store's connections."""
        with self._sync_lock:
            if self._dirty and self._index is not None:
                self._save_index()
            self.store.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the model ------------------------------------------------------------------------------
    def _set_embedder(self, embedder: Embedder) -> None:
        if embedder.fingerprint != self.fingerprint:
            where = (
                f" (run {getattr(embedder, 'run_dir', '')})" if hasattr(embedder, "run_dir") else ""
            )
            raise ModelMismatchError(
                f"this gallery holds embeddings of model {self.fingerprint}"
                f"{' from ' + self.model if self.model else ''}; the given model{where} is "
                f"{embedder.fingerprint}; use the gallery's model, or re-embed the gallery with "
                "`siamkit gallery reembed DIR --model RUN`"
            )
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The gallery's model (loaded from its run directory on first use)."""
        if self._embedder is None:
            if not self.model:
                raise GalleryError(
                    "this gallery was created from a model object, not a run directory; open it "
                    "with embedder=... to embed inputs"
                )
            self._set_embedder(_as_embedder(self.model))
        assert self._embedder is not None
        return self._embedder

    # -- the index ------------------------------------------------------------------------------
    def _index_file(self, kind: str) -> Path:
        return self.path / f"index-{kind}.npz"

    def _start_index(self) -> None:
        kind = self.index_config.resolve(self.store.state().count)
        file = self._index_file(kind)
        if file.is_file():
            self._index = VectorIndex.load(file, self.metric, self.embedding_dim, self.index_config)
        self.sync()

    def _save_index(self) -> None:
        assert self._index is not None
        self._index.save(self._index_file(self._index.kind))
        self._dirty = False

    def sync(self) -> None:
        """Apply the store's changes to the index (a full rebuild when they cannot be applied)."""
        with self._sync_lock:
            index = self._index
            if index is not None:
                changes = self.store.changes(index.generation, index.max_id)
                if changes.state.rebuild_token != index.rebuild_token:
                    self._load_meta()  # the model changed (re-embedded elsewhere)
                elif index.apply(changes):
                    self._dirty = self._dirty or bool(
                        len(changes.added.ids) or len(changes.removed)
                    )
                    return
            everything = self.store.everything()
            if everything.state.rebuild_token != getattr(index, "rebuild_token", None):
                self._load_meta()
            self._index = VectorIndex.build(
                everything, self.metric, self.embedding_dim, self.index_config
            )
            self._save_index()

    def _fresh(self) -> VectorIndex:
        now = time.monotonic()
        index = self._index
        assert index is not None
        if self.sync_interval <= 0 or now - self._last_check >= self.sync_interval:
            if self.store.generation() != index.generation:
                self.sync()
                index = self._index
                assert index is not None
            self._last_check = now
        return index

    @property
    def vector_index(self) -> VectorIndex:
        """The up-to-date FAISS index (``.faiss`` is the raw FAISS object)."""
        return self._fresh()

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
        meta = _check_metadata(metadata)
        embedder = self.embedder
        if isinstance(inputs, np.ndarray):
            if label is None:
                raise GalleryError("enrolling an array needs a label")
            emb = self._embed(embedder, inputs)
            items = [NewItem(check_label(label), meta, None, "embedding", e) for e in emb]
            return self._write(items, embedder.fingerprint)
        if isinstance(inputs, str):
            inputs = [inputs]
        loader = getattr(embedder, "load", None)
        items = []
        for group in plan_enroll(list(inputs), label, embedder.kind):
            x, names, labels, source_kind = load_group(group, loader, embedder.kind)
            emb = self._embed(embedder, list(x) if embedder.kind == "text" else x)
            items += [
                NewItem(lab, meta, name, source_kind, e)
                for lab, name, e in zip(labels, names, emb, strict=True)
            ]
        return self._write(items, embedder.fingerprint)

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
        emb = self._check_embeddings(np.asarray(embeddings, dtype=np.float32))
        n = len(emb)
        labs = [labels] * n if isinstance(labels, str) else list(labels)
        if len(labs) != n:
            raise GalleryError(f"{n} embeddings but {len(labs)} labels; give one label per row")
        labs = [check_label(lab) for lab in labs]
        if metadata is None or isinstance(metadata, dict):
            metas = [_check_metadata(metadata)] * n
        else:
            metas = [_check_metadata(m) for m in metadata]
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

    def _embed(self, embedder: Embedder, x: Any) -> npt.NDArray[np.float32]:
        try:
            emb = embedder.embed(x)
        except ValueError as e:
            raise GalleryError(str(e)) from None
        return self._check_embeddings(np.asarray(emb, dtype=np.float32))

    def _check_embeddings(self, emb: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if emb.ndim == 1:
            emb = emb[None, :]
        if emb.ndim != 2 or emb.shape[1] != self.embedding_dim or len(emb) == 0:
            raise GalleryError(
                f"embeddings must have shape (N, {self.embedding_dim}) with N >= 1; got {emb.shape}"
            )
        if not np.isfinite(emb).all():
            raise GalleryError("embeddings contain NaN or infinite values; nothing was enrolled")
        return emb

    def _write(self, items: builtins.list[NewItem], fingerprint: str) -> builtins.list[int]:
        if not items:
            raise GalleryError("nothing to enroll: the inputs hold no items")
        ids: builtins.list[int] = []
        for i in range(0, len(items), WRITE_BATCH):
            ids += self.store.add(items[i : i + WRITE_BATCH], fingerprint).ids
            self.sync()
        return ids

    # -- removing -------------------------------------------------------------------------------
    def remove(self, ids: int | Sequence[int]) -> builtins.list[int]:
        """Remove items by id; returns the ids removed.

        Raises:
            UnknownItemError: An id not in the gallery; nothing is removed.
        """
        wanted = [ids] if isinstance(ids, int) else list(ids)
        removed = self.store.remove(wanted).ids
        self.sync()
        return removed

    def remove_label(self, label: str) -> builtins.list[int]:
        """Remove every item of one identity; returns the ids removed.

        Raises:
            UnknownLabelError: No item has this label.
        """
        ids = [it.id for it in self.store.list_items(label, limit=1 << 62, offset=0)]
        if not ids:
            raise self._unknown_label(label)
        return self.remove(ids)

    def _unknown_label(self, label: str) -> UnknownLabelError:
        known = [lab for lab, _ in self.store.label_counts()[:10]]
        return UnknownLabelError(
            f"no identity '{label}' in this gallery; it holds e.g. {', '.join(known) or 'nothing'}"
            " (`siamkit gallery stats DIR` lists the largest)"
        )

    # -- reading --------------------------------------------------------------------------------
    def get(self, item_id: int) -> Item:
        """One item, with its embedding.

        Raises:
            UnknownItemError: No such id.
        """
        found = self.store.get([int(item_id)])
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
        from siamkit.index.postgres_store import redact

        counts = self.store.label_counts()
        index = self._fresh()
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

    # -- querying -------------------------------------------------------------------------------
    def _query_embeddings(
        self, inputs: str | Sequence[str] | npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        embedder = self.embedder
        if isinstance(inputs, np.ndarray):
            return self._embed(embedder, inputs)
        if isinstance(inputs, str):
            inputs = [inputs]
        if embedder.kind == "text":
            for t in inputs:
                if not isinstance(t, str) or not t.strip():
                    raise GalleryError("cannot query with an empty text; give some words")
            return self._embed(embedder, list(inputs))
        loader = getattr(embedder, "load", None)
        if loader is None:
            raise GalleryError("this gallery's model cannot read files; pass an array instead")
        try:
            x, _ = loader(list(inputs))
        except ValueError as e:
            raise GalleryError(str(e)) from None
        return self._embed(embedder, x)

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
        q = self._check_embeddings(np.asarray(embeddings, dtype=np.float32))
        index = self._fresh()
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
                Candidate(lab, float(dd), p, item, bool(dd <= self.threshold))
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
        q = self._check_embeddings(np.asarray(embeddings, dtype=np.float32))
        items = self.store.items_of_label(label)
        if not items:
            raise self._unknown_label(label)
        gallery = np.stack([it.embedding for it in items if it.embedding is not None])  # (M, D)
        dist = self.metric.pairwise(q, gallery)  # (Q, M)
        agg = dist.min(axis=1) if policy == "max" else dist.mean(axis=1)  # (Q,)
        probs = self._probabilities(agg)
        return [
            Verification(
                label, bool(d <= self.threshold), float(d), p, policy, len(items), self.threshold
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
        index = self._fresh()
        assert item.embedding is not None
        hits = index.search(item.embedding[None, :], min(k + 1, max(index.count, 1)))
        out = [
            Neighbour(int(i), lab, float(d))
            for i, lab, d in zip(hits.ids[0], hits.labels[0], hits.distances[0], strict=False)
            if int(i) != item.id and i >= 0
        ]
        return out[:k]

    # -- changing the model ---------------------------------------------------------------------
    def reembed(self, model: str | Path | Embedder, threshold: float | None = None) -> int:
        """Re-embed every item from its stored source with another model; returns the count.

        All items are read and embedded first; the new embeddings, fingerprint and threshold
        replace the old in one transaction, and the index is rebuilt.

        Raises:
            GalleryError: An item without a source (enrolled as an embedding or array) or whose
                source cannot be read; nothing is changed.
        """
        embedder = _as_embedder(model)
        get_metric(embedder.distance)
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
            emb = self._embed_sources(embedder, [str(s) for _, s, _ in rows])
        meta = _model_meta(embedder, threshold)
        self.store.replace_embeddings(ids, emb, embedder.fingerprint, meta)
        self._embedder = None
        self.sync()
        self._embedder = embedder
        return len(ids)

    def _embed_sources(
        self, embedder: Embedder, sources: builtins.list[str]
    ) -> npt.NDArray[np.float32]:
        loader = getattr(embedder, "load", None)
        if loader is None:
            raise GalleryError("the new model cannot read files (its embedder has no load())")
        by_name: dict[str, np.ndarray] = {}
        files = sorted({source_file(s) for s in sources})
        for f in files:
            try:
                x, names = loader([f])
            except ValueError as e:
                raise GalleryError(f"cannot re-embed from {f}: {e}") from None
            by_name.update(zip(names, x, strict=True))
        missing = [s for s in sources if s not in by_name]
        if missing:
            raise GalleryError(f"source {missing[0]} is no longer readable; nothing was changed")
        x = np.stack([by_name[s] for s in sources])
        emb = np.asarray(embedder.embed(x), dtype=np.float32)
        if emb.shape != (len(sources), embedder.embedding_dim) or not np.isfinite(emb).all():
            raise GalleryError(f"the new model returned embeddings of shape {emb.shape} or NaN")
        return emb


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


def _as_embedder(model: str | Path | Embedder) -> Embedder:
    if isinstance(model, str | Path):
        from siamkit.apps.faces.run import is_face_run

        if is_face_run(model):  # `siamkit faces init` folder: dlib's pretrained face encoder
            from siamkit.apps.faces import FaceEmbedder

            return FaceEmbedder.from_run_dir(model)
        from siamkit.index.run_embedder import RunEmbedder

        return RunEmbedder(model)
    if not isinstance(model, Embedder):
        raise GalleryError(
            f"model must be a run directory or an Embedder (fingerprint, embedding_dim, kind, "
            f"distance, embed()); got {type(model).__name__}"
        )
    return model


def _model_meta(embedder: Embedder, threshold: float | None) -> dict[str, str]:
    """The settings a gallery stores about its model, with the threshold to decide by."""
    calibration = getattr(embedder, "calibration", None)
    thr = threshold
    if thr is None:
        thr = getattr(embedder, "threshold", None)
    if thr is None:
        raise GalleryError(
            "no threshold for this model: calibrate the run (`siamkit calibrate RUN`) or pass "
            "--threshold"
        )
    run_dir = getattr(embedder, "run_dir", None)
    return {
        "fingerprint": embedder.fingerprint,
        "embedding_dim": str(int(embedder.embedding_dim)),
        "kind": embedder.kind,
        "distance": embedder.distance,
        "model": str(Path(run_dir).resolve()) if run_dir is not None else "",
        "threshold": repr(float(thr)),
        "calibration": json.dumps(calibration.to_dict()) if calibration is not None else "",
    }


def _check_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise GalleryError(
            f"metadata must be a JSON object (a dict); got {type(metadata).__name__}"
        )
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as e:
        raise GalleryError(f"metadata is not JSON-serialisable: {e}") from None
    return metadata


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)
