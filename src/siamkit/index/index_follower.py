"""A gallery's FAISS index, kept in step with the store by the store's change counter.

The store is the truth; the index is a cache of it saved beside the gallery as
``index-KIND.npz``. Before a query the follower compares the store's generation with the
index's and applies what changed (new ids, the removal log); when that cannot be done (the index
is missing, its saved count or id checksum does not match, or the model was re-embedded) it
rebuilds the index from every item. Several processes, or replicas sharing one PostgreSQL store,
each keep their own index in step this way.

Example:
    >>> from siamkit.index import Gallery
    >>> g = Gallery.create("gal", "runs/digits")
    >>> g.enroll(["people/"])
    [1, 2, 3, 4, 5, 6]
    >>> follower = IndexFollower(g.path, g.store, 0.0, lambda: g.settings, g._load_meta)
    >>> follower.start()  # load the saved index (if any) and bring it up to date
    >>> g.remove([1, 2])  # another writer changes the store ...
    [1, 2]
    >>> follower.fresh().count  # ... and the next query sees it
    4
    >>> follower.fresh().search(g.get(4).embedding[None], k=2).ids  # item 4 itself first
    array([[4, 5]])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from siamkit.index.gallery_settings import GallerySettings
from siamkit.index.store import SqlStore
from siamkit.index.vector_index import VectorIndex


class IndexFollower:
    """The up-to-date FAISS index of one gallery; safe to share between threads.

    Args:
        path: The gallery directory, where the index is saved.
        store: The store the index follows.
        sync_interval: Seconds between freshness checks against the store (0: before every
            query).
        settings: The gallery's current settings (metric, dimension, search settings).
        reload: Re-read the gallery's settings from the store; called when the store's model
            changed (re-embedded here or elsewhere), before the index is rebuilt.

    Attributes:
        lock: Held while the index changes; hold it to keep the index still.
    """

    def __init__(
        self,
        path: Path,
        store: SqlStore,
        sync_interval: float,
        settings: Callable[[], GallerySettings],
        reload: Callable[[], object],
    ) -> None:
        self.path = path
        self.store = store
        self.sync_interval = sync_interval
        self._settings = settings
        self._reload = reload
        self.lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._dirty = False
        self._last_check = 0.0

    def _file(self, kind: str) -> Path:
        return self.path / f"index-{kind}.npz"

    def start(self) -> None:
        """Load the saved index of the configured kind, if any, and bring it up to date."""
        settings = self._settings()
        config = settings.index_config
        kind = config.resolve(self.store.state().count)
        file = self._file(kind)
        if file.is_file():
            self._index = VectorIndex.load(file, settings.metric, settings.embedding_dim, config)
        self.sync()

    def save(self) -> None:
        """Save the index beside the gallery (``index-KIND.npz``)."""
        assert self._index is not None
        self._index.save(self._file(self._index.kind))
        self._dirty = False

    def save_if_changed(self) -> None:
        """Save the index if it changed since it was last saved."""
        with self.lock:
            if self._dirty and self._index is not None:
                self.save()

    def sync(self) -> None:
        """Apply the store's changes to the index (a full rebuild when they cannot be applied)."""
        with self.lock:
            index = self._index
            if index is not None:
                changes = self.store.changes(index.generation, index.max_id)
                if changes.state.rebuild_token != index.rebuild_token:
                    self._reload()  # the model changed (re-embedded elsewhere)
                elif index.apply(changes):
                    self._dirty = self._dirty or bool(
                        len(changes.added.ids) or len(changes.removed)
                    )
                    return
            everything = self.store.everything()
            if everything.state.rebuild_token != getattr(index, "rebuild_token", None):
                self._reload()
            settings = self._settings()
            self._index = VectorIndex.build(
                everything, settings.metric, settings.embedding_dim, settings.index_config
            )
            self.save()

    def fresh(self) -> VectorIndex:
        """The index, first synced if the store moved (checked at most every ``sync_interval``)."""
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
