"""A shared store in PostgreSQL, so several service replicas on several machines serve one gallery.

Each write transaction starts by locking the single ``state`` row (``SELECT ... FOR UPDATE``),
which serialises writers: ids are handed out in commit order, so a replica that has seen every
id up to N and the removal log up to generation G misses nothing when it asks for what came
after. Reads of changes run in a ``REPEATABLE READ`` snapshot. Needs the ``postgres`` extra
(psycopg 3).

Example:
    >>> from siamkit.index import Gallery
    >>> url = "postgresql://siamkit@db.local/gallery"
    >>> g1 = Gallery.create("g1", "runs/digits", store=url)  # doctest: +SKIP
    >>> # on another machine: join the same gallery with its own FAISS index
    >>> g2 = Gallery.create("g2", "runs/digits", store=url)  # doctest: +SKIP

    The store connects when first used; messages never show the URL's password:

    >>> store = PostgresStore("postgresql://siamkit:secret@db.local/gallery")
    >>> store.dialect, redact(store.url)
    ('postgresql', 'postgresql://siamkit:***@db.local/gallery')
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from siamkit.index.errors import GalleryError
from siamkit.index.store import SqlStore


def redact(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(SqlStore):
    """A gallery store in a PostgreSQL database (its ``public`` tables, or the URL's schema).

    Args:
        url: ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`` (libpq syntax; the password may
            come from ``PGPASSWORD`` or ``~/.pgpass`` instead).
        dim_hint: Embedding size, for empty reads.
    """

    dialect = "postgresql"

    def __init__(self, url: str, dim_hint: int | None = None) -> None:
        super().__init__(dim_hint)
        self.url = url

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise ImportError(
                "a PostgreSQL gallery needs psycopg: pip install 'siamkit[postgres]'"
            ) from None
        try:
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.OperationalError as e:
            raise GalleryError(f"cannot connect to {redact(self.url)}: {e}".strip()) from None

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN")
        if self._table_exists(cur, "state"):
            cur.execute("SELECT generation FROM state FOR UPDATE")
        else:  # creating or migrating: one process at a time
            cur.execute("SELECT pg_advisory_xact_lock(7405219)")

    def _begin_read(self, cur: Any) -> None:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _table_exists(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return bool(cur.fetchone()[0])
