"""The default store: one SQLite file in the gallery directory, in WAL mode.

WAL lets readers run beside the single writer; ``BEGIN IMMEDIATE`` takes the write lock at the
start of a write transaction (waiting up to ``busy_timeout``), so writers in several threads or
processes queue up instead of failing. ``synchronous=NORMAL`` in WAL mode never loses a committed
transaction when a process dies (only on power loss), and never leaves a partial one.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from siamkit.index.store import SqlStore

BUSY_TIMEOUT_MS = 60_000


class SqliteStore(SqlStore):
    """A gallery store in one SQLite file.

    Args:
        path: The database file (created on first write).
        dim_hint: Embedding size, for empty reads.
    """

    dialect = "sqlite"

    def __init__(self, path: str, dim_hint: int | None = None) -> None:
        super().__init__(dim_hint)
        self.path = path
        self.url = f"sqlite:{path}"

    def _connect(self) -> Any:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1e3
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _begin_read(self, cur: Any) -> None:
        cur.execute("BEGIN")

    def _table_exists(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None
