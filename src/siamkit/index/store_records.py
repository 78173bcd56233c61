"""What the gallery's store takes and hands back: items, states, changes and id checksums.

A store (:mod:`siamkit.index.store`) and the FAISS index that follows it
(:mod:`siamkit.index.vector_index`) speak in these records. The id checksum is order-free (a
wrapping sum of splitmix64 hashes, Steele et al. 2014), so a writer can update it by adding or
subtracting the hashes of the ids it writes, and an index can check a saved copy against it.

Example:
    >>> ids_checksum([1, 2]) == ids_checksum([2, 1])
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt


def id_hashes(ids: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """splitmix64 of each id: well-mixed 64-bit values whose wrapping sum is the id checksum."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, dtype=np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def ids_checksum(ids: npt.ArrayLike) -> int:
    """Order-free checksum of a set of ids (sum of their hashes mod 2**64)."""
    return int(id_hashes(ids).sum(dtype=np.uint64))


@dataclass(frozen=True)
class StoreState:
    """The committed state: change counter, next id, live count and id checksum (unsigned)."""

    generation: int
    next_id: int
    count: int
    checksum: int
    rebuild_token: str


@dataclass(frozen=True)
class NewItem:
    """An item to insert: everything but its id and time."""

    label: str
    metadata: dict[str, Any]
    source: str | None
    source_kind: str
    embedding: npt.NDArray[np.float32]  # (D,)


class WriteResult(NamedTuple):
    """Ids written or removed, and the generation before and after the transaction."""

    ids: list[int]
    before: int
    after: int


class ItemBatch(NamedTuple):
    """Items for an index: ids ``(N,)`` increasing, labels, embeddings ``(N, D)`` float32."""

    ids: npt.NDArray[np.int64]
    labels: list[str]
    embeddings: npt.NDArray[np.float32]


class Changes(NamedTuple):
    """What happened after a generation, read in one snapshot with the state it leads to."""

    state: StoreState
    removed: npt.NDArray[np.int64]
    added: ItemBatch


def now_utc() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
