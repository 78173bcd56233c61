"""The gallery's tables and their migrations, for SQLite and PostgreSQL.

Version 1 holds the items, the gallery's settings (``meta``) and one ``state`` row (a change
counter, the next item id, the live count and a checksum of the live ids). Version 2 adds the
removal log that lets an index (or another replica's) follow deletions without a rebuild, and
an index on labels. A store at a higher version than :data:`SCHEMA_VERSION` is refused before
anything is written.

Every migration runs inside the caller's transaction, so a store is never left between
versions.
"""

from __future__ import annotations

from typing import Literal

SCHEMA_VERSION = 2
Dialect = Literal["sqlite", "postgresql"]


def _v1(dialect: Dialect) -> list[str]:
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE items (
            id BIGINT PRIMARY KEY,
            label TEXT NOT NULL,
            metadata TEXT NOT NULL,
            source TEXT,
            source_kind TEXT NOT NULL,
            embedding {blob} NOT NULL,
            fingerprint TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE state (
            id INTEGER PRIMARY KEY,
            generation BIGINT NOT NULL,
            next_id BIGINT NOT NULL,
            count BIGINT NOT NULL,
            checksum BIGINT NOT NULL,
            rebuild_token TEXT NOT NULL
        )""",
        "INSERT INTO state VALUES (1, 0, 1, 0, 0, 'v1')",
    ]


def _v2(dialect: Dialect) -> list[str]:
    return [
        "CREATE TABLE removals (generation BIGINT NOT NULL, item_id BIGINT NOT NULL)",
        "CREATE INDEX removals_generation ON removals (generation)",
        "CREATE INDEX items_label ON items (label)",
        # indexes built before the removal log cannot follow removals: rebuild them once
        "UPDATE state SET rebuild_token = 'v2'",
    ]


MIGRATIONS = {1: _v1, 2: _v2}  # version -> statements that bring version - 1 to it


def migration_statements(dialect: Dialect, current: int, target: int = SCHEMA_VERSION) -> list[str]:
    """The SQL that brings a store from ``current`` (0 = empty) to ``target``."""
    statements: list[str] = []
    for version in range(current + 1, target + 1):
        statements += MIGRATIONS[version](dialect)
    return statements
