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
    >>> g = Gallery.create("gal", "runs/digits", threshold=0.6)  # default: the run's own
    >>> g.enroll(["people/zero/"], label="zero")
    [1, 2, 3]
    >>> [r.label for r in g.identify(["a.png", "c.png"], k=3)]  # None when unknown
    ['zero', None]
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from siamkit.index.binding import as_embedder, model_meta, recorded_model
from siamkit.index.errors import GalleryError, ModelMismatchError, NotAGalleryError
from siamkit.index.gallery_queries import GalleryQueries
from siamkit.index.gallery_settings import GallerySettings
from siamkit.index.gallery_writes import GalleryWrites
from siamkit.index.index_follower import IndexFollower
from siamkit.index.metric import get_metric
from siamkit.index.model_binding import ModelBinding
from siamkit.index.store import SqlStore
from siamkit.index.store_records import now_utc
from siamkit.index.stores import open_store
from siamkit.index.vector_index import IndexConfig, VectorIndex
from siamkit.run import Embedder, write_json

GALLERY_FILE = "gallery.json"
DB_FILE = "gallery.db"
FORMAT = "siamkit-gallery"


class Gallery(GalleryQueries, GalleryWrites):
    """A persistent gallery of embeddings with a FAISS index; safe to share between threads.

    Make one with :meth:`create`, reopen it with :meth:`open`; close it (or use ``with``) to
    keep its index for the next open. Its public methods are grouped by what they do: reading
    and querying (:class:`~siamkit.index.gallery_queries.GalleryQueries`) and writing
    (:class:`~siamkit.index.gallery_writes.GalleryWrites`); the state they share is three
    parts it holds: the store (the truth), the index that follows it
    (:class:`~siamkit.index.index_follower.IndexFollower`) and the model it embeds with
    (:class:`~siamkit.index.model_binding.ModelBinding`).

    Attributes:
        path: The gallery directory.
        store: The database.
        index_config: How it searches.
        threshold: Accept a match when its distance is ``<= threshold``.
        settings: Every setting read from the store (``fingerprint``, ``embedding_dim``,
            ``kind``, ``distance``, ``metric``, ``model``, ``meta`` are also attributes).
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
        self._load_meta()
        self._binding = ModelBinding(lambda: self.settings, path)
        self._follower = IndexFollower(
            path, store, sync_interval, lambda: self.settings, self._load_meta
        )

    # -- settings -------------------------------------------------------------------------------
    def _load_meta(self) -> None:
        """Read the settings from the store; the public attributes mirror them for callers."""
        settings = GallerySettings.from_meta(
            self.store.meta(), self._config_override, self._threshold_override
        )
        self.settings = settings
        self.store.dim = settings.embedding_dim
        self.meta = settings.meta
        self.fingerprint = settings.fingerprint
        self.embedding_dim = settings.embedding_dim
        self.kind = settings.kind
        self.distance = settings.distance
        self.metric = settings.metric
        # where the model is now: the store records it relative to the gallery (portable)
        self.model = str(recorded_model(settings.model, self.path)) if settings.model else ""
        self.index_config = settings.index_config
        self.threshold = settings.threshold
        self._probability: Any = settings.probability

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
        embedder = as_embedder(model)
        get_metric(embedder.distance)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise GalleryError(f"{path} already exists and is not empty; choose a new directory")
        meta = model_meta(embedder, threshold, path)
        meta.update((index or IndexConfig()).to_meta())
        meta["created_at"] = now_utc()
        if store is None:
            tmp = path.with_name(f".{path.name}.creating-{uuid.uuid4().hex[:8]}")
            tmp.mkdir(parents=True)
            try:
                db = open_store(f"sqlite:{tmp / DB_FILE}")
                db.initialize(meta)
                db.close()
                write_json(tmp / GALLERY_FILE, {"format": FORMAT, "store": "sqlite"})
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
            write_json(path / GALLERY_FILE, {"format": FORMAT, "store": store})
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
                gallery._binding.bind(as_embedder(embedder))
            gallery._follower.start()
        except BaseException:
            store.close()
            raise
        return gallery

    def close(self) -> None:
        """Save the index if it changed, and close the store's connections."""
        with self._follower.lock:
            self._follower.save_if_changed()
            self.store.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the model and the index ----------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The gallery's model (loaded from its run directory on first use)."""
        return self._binding.embedder

    def sync(self) -> None:
        """Apply the store's changes to the index (a full rebuild when they cannot be applied)."""
        self._follower.sync()

    @property
    def vector_index(self) -> VectorIndex:
        """The up-to-date FAISS index (``.faiss`` is the raw FAISS object)."""
        return self._follower.fresh()

    @property
    def sync_interval(self) -> float:
        """Seconds between freshness checks against the store (0: before every query)."""
        return self._follower.sync_interval

    @sync_interval.setter
    def sync_interval(self, seconds: float) -> None:
        self._follower.sync_interval = seconds
