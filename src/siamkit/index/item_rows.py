"""How an item is laid out as a row of the store's ``items`` table, and read back.

An embedding is stored as little-endian float32 bytes and metadata as sorted JSON, so both
dialects hold the same bytes and a row reads back to the same :class:`Item` anywhere.

Example:
    >>> blob = embedding_blob(np.ones(3, np.float32))  # 12 bytes
    >>> item_from_row((7, "a", "{}", None, "embedding", blob, "fp", "2024-01-01"), True).id
    7
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.results import Item
from siamkit.index.store_records import ItemBatch

ITEM_COLUMNS = "id, label, metadata, source, source_kind, embedding, fingerprint, created_at"


def embedding_blob(embedding: npt.ArrayLike) -> bytes:
    """One embedding ``(D,)`` as the bytes the store keeps (little-endian float32)."""
    return np.ascontiguousarray(embedding, dtype="<f4").tobytes()


def metadata_text(metadata: dict[str, Any]) -> str:
    """An item's metadata as the JSON text the store keeps (keys sorted)."""
    return json.dumps(metadata, sort_keys=True)


def item_from_row(row: Sequence[Any], with_embedding: bool) -> Item:
    """The item of a row selected as :data:`ITEM_COLUMNS`; its embedding only when asked."""
    emb = np.frombuffer(bytes(row[5]), dtype="<f4").astype(np.float32) if with_embedding else None
    return Item(
        id=int(row[0]),
        label=str(row[1]),
        metadata=json.loads(row[2]),
        source=row[3],
        source_kind=str(row[4]),
        fingerprint=str(row[6]),
        created_at=str(row[7]),
        embedding=emb,
    )


def read_batch(cur: Any, dim: int | None, fetch: int = 50_000) -> ItemBatch:
    """The ``(id, label, embedding)`` rows of an executed query, for an index.

    Args:
        cur: A cursor that has run the query; read ``fetch`` rows at a time.
        dim: The embedding size, for the shape of an empty batch ``(0, dim)``.
        fetch: Rows per ``fetchmany``.
    """
    ids: list[int] = []
    labels: list[str] = []
    blobs: list[bytes] = []
    while True:
        rows = cur.fetchmany(fetch)
        if not rows:
            break
        for r in rows:
            ids.append(int(r[0]))
            labels.append(str(r[1]))
            blobs.append(bytes(r[2]))
    if not blobs:
        return ItemBatch(np.zeros(0, np.int64), [], np.zeros((0, dim or 0), np.float32))
    emb = np.frombuffer(b"".join(blobs), dtype="<f4").astype(np.float32)
    emb = emb.reshape(len(blobs), -1)
    return ItemBatch(np.array(ids, dtype=np.int64), labels, emb)
