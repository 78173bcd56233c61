"""Transactions for the gallery's SQL store: one connection per thread, writers in a queue.

The SQL dialects (:mod:`siamkit.index.sqlite_store`, :mod:`siamkit.index.postgres_store`) differ
only in how they connect, begin a write (taking the lock that serialises writers) and begin a
read snapshot; :class:`SqlTransactions` runs everything else the same way for both. The tables
and what is written to them are :class:`~siamkit.index.store.SqlStore`'s.

Example:
    >>> from siamkit.index.stores import open_store
    >>> store = open_store("sqlite:gallery.db")
    >>> store.initialize({"fingerprint": "f0"})  # the tables, in one write transaction
    True
    >>> with store._read() as cur:  # one snapshot
    ...     cur.execute("SELECT generation, count FROM state").fetchone()
    (0, 0)
    >>> with store._write() as cur:  # holds the writers' lock; committed, or undone on error
    ...     _ = cur.execute("UPDATE state SET generation = 5")
    ...     raise RuntimeError("stop")
    Traceback (most recent call last):
        ...
    RuntimeError: stop
    >>> store.generation()
    0
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from siamkit.index.schema import Dialect

T = TypeVar("T")
IN_LIST = 500  # ids per ``IN (...)`` list, well under every driver's parameter limit


class SqlTransactions:
    """Per-thread connections and the read and write transactions of one SQL database.

    Subclasses provide :meth:`_connect`, :meth:`_begin_write`, :meth:`_begin_read` and
    :meth:`_table_exists`; each thread uses its own connection.
    """

    dialect: Dialect = "sqlite"
    url: str = ""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._guard = threading.Lock()

    # -- per dialect ----------------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin_write(self, cur: Any) -> None:
        raise NotImplementedError

    def _begin_read(self, cur: Any) -> None:
        raise NotImplementedError

    def _table_exists(self, cur: Any, name: str) -> bool:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection."""
        with self._guard:
            for conn in self._all:
                with contextlib.suppress(Exception):  # another thread's connection
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """A write transaction holding the writers' lock: committed on exit, undone on error."""
        conn = self._conn()
        cur = conn.cursor()
        self._begin_write(cur)
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """A read-only snapshot transaction."""
        conn = self._conn()
        cur = conn.cursor()
        self._begin_read(cur)
        try:
            yield cur
        finally:
            cur.execute("COMMIT")
            cur.close()

    def _one(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(sql), tuple(params))
        return cur.fetchone()


def chunks(seq: list[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """``seq`` in consecutive pieces of at most ``size`` (for ``IN (...)`` lists)."""
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
