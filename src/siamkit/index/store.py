"""The gallery's database, the source of truth: items, settings and a change counter.

One class speaks SQL to both SQLite (:mod:`siamkit.index.sqlite_store`) and PostgreSQL
(:mod:`siamkit.index.postgres_store`); they differ only in how they connect, lock and name
parameters. Every write is one transaction that first locks the single ``state`` row, so
writers are serialised, item ids are handed out in commit order and never reused, and the
counter, live count and id checksum always describe the committed items exactly. A FAISS
index follows the store by asking for the changes after its own generation
(:meth:`SqlStore.changes`), read in one snapshot.

Example:
    >>> from siamkit.index.stores import open_store
    >>> store = open_store("sqlite:gallery.db", dim_hint=2)
    >>> store.initialize({"fingerprint": "f0", "embedding_dim": "2"})
    True
    >>> store.add([NewItem("alice", {}, None, "embedding", np.ones(2, np.float32))], "f0")
    WriteResult(ids=[1], before=0, after=1)
    >>> store.state().count, store.generation()
    (1, 1)
    >>> store.changes(generation=0, after_id=0).added.labels  # what an index at 0 lacks
    ['alice']
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.errors import (
    GalleryError,
    ModelMismatchError,
    SchemaTooNewError,
    UnknownItemError,
)
from siamkit.index.item_rows import (
    ITEM_COLUMNS,
    embedding_blob,
    item_from_row,
    metadata_text,
    read_batch,
)
from siamkit.index.results import Item
from siamkit.index.schema import SCHEMA_VERSION, migration_statements
from siamkit.index.sql_transactions import SqlTransactions, chunks
from siamkit.index.store_records import (
    Changes,
    NewItem,
    StoreState,
    WriteResult,
    ids_checksum,
    now_utc,
)

_U64 = (1 << 64) - 1


def _signed(x: int) -> int:
    x &= _U64
    return x - (1 << 64) if x >= 1 << 63 else x


class SqlStore(SqlTransactions):
    """Items and settings of one gallery in a SQL database; safe to share between threads.

    The dialect's subclass says how to connect and begin transactions
    (:class:`~siamkit.index.sql_transactions.SqlTransactions`); this class owns the tables.

    Args:
        dim_hint: Embedding size, for empty reads.
    """

    def __init__(self, dim_hint: int | None = None) -> None:
        super().__init__()
        self.dim = dim_hint  # embedding size, for empty reads

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The store's schema version; 0 for an empty database."""
        with self._read() as cur:
            return self._version(cur)

    def _version(self, cur: Any) -> int:
        if not self._table_exists(cur, "schema_version"):
            return 0
        row = self._one(cur, "SELECT version FROM schema_version")
        return int(row[0]) if row else 0

    def check_schema(self, where: str) -> int:
        """Refuse a newer schema; migrate an older one (in one transaction). Returns the version.

        Raises:
            SchemaTooNewError: Written by a newer siamkit; nothing is changed.
            GalleryError: The database holds no gallery.
        """
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"gallery {where} has schema version {version}; this siamkit reads up to "
                f"version {SCHEMA_VERSION}; upgrade siamkit to open it"
            )
        if version == 0:
            raise GalleryError(
                f"{where} holds no gallery; create one with `siamkit gallery create`"
            )
        if version < SCHEMA_VERSION:
            with self._write() as cur:
                current = self._version(cur)  # another process may have migrated meanwhile
                for sql in migration_statements(self.dialect, current):
                    cur.execute(sql)
                cur.execute(self._sql("UPDATE schema_version SET version = ?"), (SCHEMA_VERSION,))
        return SCHEMA_VERSION

    def initialize(self, meta: dict[str, str], version: int = SCHEMA_VERSION) -> bool:
        """Create the tables and settings of a new gallery in one transaction.

        Returns:
            True if created; False if the database already holds a gallery (left unchanged).
        """
        with self._write() as cur:
            if self._version(cur) != 0:
                return False
            cur.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            for sql in migration_statements(self.dialect, 0, version):
                cur.execute(sql)
            cur.execute(self._sql("INSERT INTO schema_version VALUES (?)"), (version,))
            cur.executemany(
                self._sql("INSERT INTO meta (key, value) VALUES (?, ?)"), list(meta.items())
            )
            cur.execute(self._sql("UPDATE state SET rebuild_token = ?"), (uuid.uuid4().hex,))
        return True

    # -- settings and state --------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The gallery's settings (model fingerprint, dimension, distance, ...)."""
        with self._read() as cur:
            cur.execute("SELECT key, value FROM meta")
            return {str(k): str(v) for k, v in cur.fetchall()}

    def state(self) -> StoreState:
        """The committed state (one small read)."""
        with self._read() as cur:
            return self._state(cur)

    def _state(self, cur: Any) -> StoreState:
        row = self._one(
            cur, "SELECT generation, next_id, count, checksum, rebuild_token FROM state"
        )
        return StoreState(int(row[0]), int(row[1]), int(row[2]), int(row[3]) & _U64, str(row[4]))

    def generation(self) -> int:
        """The change counter alone: the cheapest freshness check."""
        cur = self._conn().cursor()
        try:
            cur.execute("SELECT generation FROM state")
            return int(cur.fetchone()[0])
        finally:
            cur.close()

    def _bump(self, cur: Any, state: StoreState, added: int, checksum_delta: int) -> int:
        gen = state.generation + 1
        cur.execute(
            self._sql("UPDATE state SET generation = ?, next_id = ?, count = ?, checksum = ?"),
            (
                gen,
                state.next_id + max(added, 0),
                state.count + added,
                _signed(state.checksum + checksum_delta),
            ),
        )
        return gen

    # -- writes ------------------------------------------------------------------------------
    def add(self, items: Sequence[NewItem], fingerprint: str) -> WriteResult:
        """Insert items in one transaction; ids are consecutive and increasing.

        Raises:
            ModelMismatchError: The gallery's model changed (a re-embed) since the caller looked.
        """
        if not items:
            raise GalleryError("nothing to enroll: no items given")
        created = now_utc()
        with self._write() as cur:
            state = self._state(cur)
            current = self._one(cur, "SELECT value FROM meta WHERE key = ?", ("fingerprint",))[0]
            if current != fingerprint:
                raise ModelMismatchError(
                    f"embeddings of model {fingerprint} cannot join this gallery of model "
                    f"{current}; embed with the gallery's model"
                )
            ids = list(range(state.next_id, state.next_id + len(items)))
            rows = [
                (
                    i,
                    it.label,
                    metadata_text(it.metadata),
                    it.source,
                    it.source_kind,
                    embedding_blob(it.embedding),
                    fingerprint,
                    created,
                )
                for i, it in zip(ids, items, strict=True)
            ]
            cur.executemany(
                self._sql(f"INSERT INTO items ({ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                rows,
            )
            after = self._bump(cur, state, len(ids), ids_checksum(ids))
        return WriteResult(ids, state.generation, after)

    def remove(self, ids: Sequence[int]) -> WriteResult:
        """Delete items in one transaction and log them for indexes to follow.

        Raises:
            UnknownItemError: Some ids are not in the gallery; nothing is removed.
        """
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            raise GalleryError("nothing to remove: no item ids given")
        with self._write() as cur:
            state = self._state(cur)
            present = set(self._existing(cur, wanted))
            missing = [i for i in wanted if i not in present]
            if missing:
                raise UnknownItemError(
                    f"no item with id {', '.join(map(str, missing[:10]))} in this gallery; "
                    "`siamkit gallery list DIR` shows the ids"
                )
            gen = self._bump(cur, state, -len(wanted), -ids_checksum(wanted))
            for chunk in chunks(wanted):
                marks = ", ".join("?" * len(chunk))
                cur.execute(self._sql(f"DELETE FROM items WHERE id IN ({marks})"), chunk)
            cur.executemany(
                self._sql("INSERT INTO removals (generation, item_id) VALUES (?, ?)"),
                [(gen, i) for i in wanted],
            )
        return WriteResult(wanted, state.generation, gen)

    def _existing(self, cur: Any, ids: Sequence[int]) -> list[int]:
        found: list[int] = []
        for chunk in chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            cur.execute(self._sql(f"SELECT id FROM items WHERE id IN ({marks})"), chunk)
            found += [int(r[0]) for r in cur.fetchall()]
        return found

    def replace_embeddings(
        self,
        ids: Sequence[int],
        embeddings: npt.NDArray[np.float32],
        fingerprint: str,
        meta: dict[str, str],
    ) -> WriteResult:
        """Swap every item's embedding and the gallery's model in one transaction.

        Raises:
            GalleryError: The items changed since ``ids`` were read; nothing is changed.
        """
        with self._write() as cur:
            state = self._state(cur)
            cur.execute("SELECT id FROM items ORDER BY id")
            live = [int(r[0]) for r in cur.fetchall()]
            if live != sorted(int(i) for i in ids):
                raise GalleryError(
                    "items were enrolled or removed while re-embedding; nothing was changed, "
                    "run `siamkit gallery reembed` again"
                )
            cur.executemany(
                self._sql("UPDATE items SET embedding = ?, fingerprint = ? WHERE id = ?"),
                [
                    (embedding_blob(e), fingerprint, int(i))
                    for i, e in zip(ids, embeddings, strict=True)
                ],
            )
            for key, value in meta.items():
                cur.execute(self._sql("UPDATE meta SET value = ? WHERE key = ?"), (value, key))
            gen = self._bump(cur, state, 0, 0)
            cur.execute(self._sql("UPDATE state SET rebuild_token = ?"), (uuid.uuid4().hex,))
        return WriteResult(list(ids), state.generation, gen)

    # -- reads -------------------------------------------------------------------------------
    def get(self, ids: Sequence[int], with_embedding: bool = True) -> list[Item]:
        """Items by id, in the order asked; unknown ids are left out."""
        rows: dict[int, Any] = {}
        with self._read() as cur:
            for chunk in chunks([int(i) for i in ids]):
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    self._sql(f"SELECT {ITEM_COLUMNS} FROM items WHERE id IN ({marks})"), chunk
                )
                rows.update({int(r[0]): r for r in cur.fetchall()})
        return [item_from_row(rows[int(i)], with_embedding) for i in ids if int(i) in rows]

    def items_of_label(self, label: str) -> list[Item]:
        """Every item of one identity, with embeddings, by id."""
        with self._read() as cur:
            cur.execute(
                self._sql(f"SELECT {ITEM_COLUMNS} FROM items WHERE label = ? ORDER BY id"),
                (label,),
            )
            return [item_from_row(r, True) for r in cur.fetchall()]

    def list_items(self, label: str | None, limit: int, offset: int) -> list[Item]:
        """Items by id (without embeddings), optionally of one label, paged."""
        where = "WHERE label = ?" if label is not None else ""
        params: list[Any] = [label] if label is not None else []
        with self._read() as cur:
            cur.execute(
                self._sql(f"SELECT {ITEM_COLUMNS} FROM items {where} ORDER BY id LIMIT ? OFFSET ?"),
                (*params, int(limit), int(offset)),
            )
            return [item_from_row(r, False) for r in cur.fetchall()]

    def label_counts(self) -> list[tuple[str, int]]:
        """(label, items) for every identity, most items first."""
        with self._read() as cur:
            cur.execute(
                "SELECT label, COUNT(*) AS n FROM items GROUP BY label ORDER BY n DESC, label"
            )
            return [(str(r[0]), int(r[1])) for r in cur.fetchall()]

    def items_with_sources(self, sources: Sequence[str]) -> list[tuple[int, str, str]]:
        """``(id, source, label)`` of the items enrolled from any of ``sources``, by id."""
        found: list[tuple[int, str, str]] = []
        with self._read() as cur:
            for chunk in chunks(sorted(set(sources))):
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    self._sql(f"SELECT id, source, label FROM items WHERE source IN ({marks})"),
                    chunk,
                )
                found += [(int(r[0]), str(r[1]), str(r[2])) for r in cur.fetchall()]
        return sorted(found)

    def sources(self) -> list[tuple[int, str | None, str]]:
        """(id, source, source_kind) of every item, by id."""
        with self._read() as cur:
            cur.execute("SELECT id, source, source_kind FROM items ORDER BY id")
            return [(int(r[0]), r[1], str(r[2])) for r in cur.fetchall()]

    def changes(self, generation: int, after_id: int) -> Changes:
        """Items added (id > ``after_id``) and removed (after ``generation``), one snapshot."""
        with self._read() as cur:
            state = self._state(cur)
            cur.execute(
                self._sql("SELECT item_id FROM removals WHERE generation > ?"), (generation,)
            )
            removed = np.array([int(r[0]) for r in cur.fetchall()], dtype=np.int64)
            cur.execute(
                self._sql("SELECT id, label, embedding FROM items WHERE id > ? ORDER BY id"),
                (after_id,),
            )
            added = read_batch(cur, self.dim)
        return Changes(state, removed, added)

    def everything(self) -> Changes:
        """Every live item (for a full index rebuild), one snapshot."""
        return self.changes(generation=1 << 62, after_id=0)
