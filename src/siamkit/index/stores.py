"""Open a gallery's store by its URL: SQLite (the default) or PostgreSQL (shared).

Example:
    >>> store = open_store("sqlite:galleries/digits/gallery.db", dim_hint=64)
"""

from __future__ import annotations

from siamkit.index.errors import GalleryError
from siamkit.index.postgres_store import PostgresStore
from siamkit.index.sqlite_store import SqliteStore
from siamkit.index.store import SqlStore


def open_store(url: str, dim_hint: int | None = None) -> SqlStore:
    """A store from its URL: ``sqlite:PATH`` or ``postgresql://...``.

    Raises:
        GalleryError: Any other scheme.
    """
    if url.startswith("sqlite:"):
        return SqliteStore(url.removeprefix("sqlite:"), dim_hint)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, dim_hint)
    raise GalleryError(
        f"unknown store '{url}'; use sqlite:PATH (the default) or postgresql://USER@HOST/DB"
    )
