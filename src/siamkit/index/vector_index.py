"""The gallery's FAISS index: exact (``IndexFlat``) or HNSW, following the store.

Items sit at consecutive positions in id order; ``ids`` and ``labels`` map positions back. A
removed item becomes a tombstone that searches skip (an ``IDSelector``), and the index is
rebuilt from the store once tombstones pass a quarter of it. The index remembers the store
generation it reflects, the live count and the checksum of the live ids, so a saved index is
checked against the store when loaded and brought up to date (or rebuilt) before use.

HNSW: Malkov & Yashunin (2018), "Efficient and robust approximate nearest neighbor search using
Hierarchical Navigable Small World graphs".

Example:
    >>> from siamkit.index.metric import get_metric
    >>> from siamkit.index.store_records import NewItem
    >>> from siamkit.index.stores import open_store
    >>> store = open_store("sqlite:gallery.db", dim_hint=2)
    >>> store.initialize({"fingerprint": "f0"})
    True
    >>> rows = {"alice": [1.0, 0.0], "bob": [0.0, 1.0], "carol": [1.0, 1.0]}
    >>> items = [NewItem(k, {}, None, "embedding", np.float32(v)) for k, v in rows.items()]
    >>> store.add(items, "f0").ids
    [1, 2, 3]
    >>> index = VectorIndex.build(store.everything(), get_metric("cosine"), 2, IndexConfig())
    >>> hits = index.search([[0.9, 0.1]], k=2)  # ids (Q, 2), labels, distances (Q, 2)
    >>> hits.ids, hits.labels, hits.distances.round(3)
    (array([[1, 3]]), [['alice', 'carol']], array([[0.006, 0.219]]))
    >>> store.remove([1]).ids
    [1]
    >>> index.apply(store.changes(index.generation, index.max_id))  # False: rebuild it
    False
    >>> index.search([[0.9, 0.1]], k=2).labels  # one of three is a tombstone, skipped
    [['carol', 'bob']]
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from siamkit.index.metric import Metric
from siamkit.index.store_records import Changes, ItemBatch, StoreState, id_hashes

INDEX_KINDS = ("auto", "flat", "hnsw")
TOMBSTONE_SHARE = 0.25  # rebuild once this share of positions is removed items


def import_faiss() -> Any:
    """faiss, or an ImportError naming the extra to install."""
    try:
        import faiss
    except ImportError:
        raise ImportError("the gallery needs FAISS: pip install 'siamkit[faiss]'") from None
    return faiss


@dataclass(frozen=True)
class IndexConfig:
    """How the gallery searches.

    Attributes:
        kind: ``auto`` (exact up to ``hnsw_threshold`` items, HNSW beyond), ``flat`` (always
            exact) or ``hnsw`` (always approximate).
        hnsw_threshold: Item count above which ``auto`` switches to HNSW.
        hnsw_m: HNSW graph degree M.
        ef_construction: HNSW build beam width.
        ef_search: HNSW search beam width (recall against speed).
    """

    kind: str = "auto"
    hnsw_threshold: int = 100_000
    hnsw_m: int = 32
    ef_construction: int = 100
    ef_search: int = 48

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise ValueError(f"unknown index kind '{self.kind}'; choose one of: auto, flat, hnsw")
        for name in ("hnsw_threshold", "hnsw_m", "ef_construction", "ef_search"):
            if getattr(self, name) < 1:
                raise ValueError(f"index setting {name} must be >= 1; got {getattr(self, name)}")

    def resolve(self, count: int) -> str:
        """``flat`` or ``hnsw`` for a gallery of ``count`` items."""
        if self.kind != "auto":
            return self.kind
        return "hnsw" if count > self.hnsw_threshold else "flat"

    def to_meta(self) -> dict[str, str]:
        """As strings for the store's settings."""
        return {f"index_{k}": str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> IndexConfig:
        """Inverse of :meth:`to_meta` (missing keys take their defaults)."""
        values: dict[str, Any] = {}
        for k, default in asdict(cls()).items():
            if f"index_{k}" in meta:
                values[k] = type(default)(meta[f"index_{k}"])
        return cls(**values)


class Hits(NamedTuple):
    """Search results, ``(Q, k)`` each; missing neighbours have id -1 and distance inf."""

    ids: npt.NDArray[np.int64]
    labels: list[list[str]]
    distances: npt.NDArray[np.float64]


class VectorIndex:
    """A FAISS index of a gallery's live items; thread-safe.

    Args:
        metric: How distances map onto FAISS.
        dim: Embedding size D.
        kind: ``flat`` or ``hnsw``.
        config: HNSW parameters.
    """

    def __init__(self, metric: Metric, dim: int, kind: str, config: IndexConfig) -> None:
        faiss = import_faiss()
        self.metric, self.dim, self.kind, self.config = metric, dim, kind, config
        fm = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT, "l1": faiss.METRIC_L1}
        if kind == "hnsw":
            self.faiss = faiss.IndexHNSWFlat(dim, config.hnsw_m, fm[metric.faiss_metric])
            self.faiss.hnsw.efConstruction = config.ef_construction
            self.faiss.hnsw.efSearch = config.ef_search
        else:
            self.faiss = faiss.IndexFlat(dim, fm[metric.faiss_metric])
        self.lock = threading.RLock()
        self._ids = np.zeros(0, dtype=np.int64)  # position -> item id (increasing)
        self._n = 0  # positions used
        self.labels: list[str] = []  # position -> label
        self._dead: set[int] = set()  # tombstoned positions
        self._params: Any = None
        self.generation = -1
        self.rebuild_token = ""
        self.count = 0
        self.checksum = 0

    # -- building and following the store ----------------------------------------------------
    @classmethod
    def build(
        cls, everything: Changes, metric: Metric, dim: int, config: IndexConfig
    ) -> VectorIndex:
        """A fresh index of every live item in ``everything`` (``SqlStore.everything()``)."""
        index = cls(metric, dim, config.resolve(everything.state.count), config)
        index._add(everything.added)
        index._mark(everything.state)
        return index

    @property
    def ids(self) -> npt.NDArray[np.int64]:
        """Item id at each position (tombstones included)."""
        return self._ids[: self._n]

    @property
    def max_id(self) -> int:
        """The largest item id ever added (0 if none)."""
        return int(self._ids[self._n - 1]) if self._n else 0

    def _mark(self, state: StoreState) -> None:
        self.generation, self.rebuild_token = state.generation, state.rebuild_token

    def _add(self, batch: ItemBatch) -> None:
        if len(batch.ids) == 0:
            return
        if batch.embeddings.shape[1] != self.dim:
            raise ValueError(
                f"embeddings of size {batch.embeddings.shape[1]} in a {self.dim}-d index"
            )
        self.faiss.add(self.metric.prepare(batch.embeddings))
        need = self._n + len(batch.ids)
        if need > len(self._ids):
            grown = np.zeros(max(need, 2 * len(self._ids), 1024), dtype=np.int64)
            grown[: self._n] = self._ids[: self._n]
            self._ids = grown
        self._ids[self._n : need] = batch.ids
        self._n = need
        self.labels += batch.labels
        self.count += len(batch.ids)
        self.checksum = (self.checksum + int(id_hashes(batch.ids).sum(dtype=np.uint64))) & (
            (1 << 64) - 1
        )

    def _remove(self, item_ids: npt.NDArray[np.int64]) -> None:
        ids = self.ids
        pos = np.searchsorted(ids, item_ids)
        ok = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == item_ids) if len(ids) else []
        gone = [int(p) for p, hit in zip(pos, ok, strict=True) if hit and int(p) not in self._dead]
        if not gone:
            return
        self._dead.update(gone)
        gone_ids = ids[gone]
        self.count -= len(gone)
        self.checksum = (self.checksum - int(id_hashes(gone_ids).sum(dtype=np.uint64))) & (
            (1 << 64) - 1
        )
        self._params = None

    def apply(self, changes: Changes) -> bool:
        """Bring the index up to ``changes.state``; False when it must be rebuilt instead.

        Items in ``changes`` that the index already holds are skipped, so applying the same
        changes twice is harmless.
        """
        with self.lock:
            if changes.state.rebuild_token != self.rebuild_token:
                return False
            new = changes.added
            keep = new.ids > self.max_id
            if not keep.all():
                new = ItemBatch(
                    new.ids[keep],
                    [lab for lab, k in zip(new.labels, keep, strict=True) if k],
                    new.embeddings[keep],
                )
            self._add(new)
            if len(changes.removed):
                self._remove(np.sort(changes.removed))
            self._mark(changes.state)
            fresh = (self.count, self.checksum) == (changes.state.count, changes.state.checksum)
            wanted = self.config.resolve(self.count)
            return (
                fresh
                and wanted == self.kind
                and len(self._dead) <= TOMBSTONE_SHARE * max(self._n, 1)
            )

    def set_ef_search(self, ef_search: int) -> None:
        """Change the HNSW search width of this index (no effect on an exact index)."""
        with self.lock:
            if self.kind == "hnsw":
                self.config = replace(self.config, ef_search=ef_search)
                self.faiss.hnsw.efSearch = ef_search
                self._params = None

    # -- search -------------------------------------------------------------------------------
    def _search_params(self) -> Any:
        if not self._dead:
            return None
        if self._params is None:
            faiss = import_faiss()
            dead = np.fromiter(self._dead, dtype=np.int64, count=len(self._dead))
            batch = faiss.IDSelectorBatch(dead)
            sel = faiss.IDSelectorNot(batch)
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=self.config.ef_search)
            else:
                params = faiss.SearchParameters(sel=sel)
            params._keep = (batch, sel)  # the selectors must outlive the params
            self._params = params
        return self._params

    def search(self, queries: npt.ArrayLike, k: int) -> Hits:
        """The ``k`` nearest live items of each query ``(Q, D)``, closest first."""
        q = self.metric.prepare(queries)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"queries must have shape (Q, {self.dim}); got {q.shape}")
        with self.lock:
            k_eff = max(1, min(k, self.count))
            params = self._search_params()
            if params is None:
                scores, pos = self.faiss.search(q, k_eff)
            else:
                scores, pos = self.faiss.search(q, k_eff, params=params)
            rows = pos.tolist()
            labels = [[self.labels[p] for p in row if p >= 0] for row in rows]
            ids = self._ids[pos]  # (Q, k); position -1 (no neighbour) is fixed below
        dist = self.metric.from_faiss(scores)
        missing = pos < 0
        if missing.any():
            ids[missing], dist[missing] = -1, np.inf
        return Hits(ids, labels, dist)

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the index and its bookkeeping to one file, atomically (temporary + rename)."""
        faiss = import_faiss()
        with self.lock:
            blob = faiss.serialize_index(self.faiss)
            arrays = {
                "faiss": blob,
                "ids": self.ids,
                **_encode_labels(self.labels),
                "dead": np.array(sorted(self._dead), dtype=np.int64),
                "state": np.array([self.generation, self.count, self.checksum], dtype=np.uint64),
                "token": np.array(self.rebuild_token),
                "kind": np.array(self.kind),
                "metric": np.array(self.metric.name),
            }
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, metric: Metric, dim: int, config: IndexConfig) -> VectorIndex | None:
        """A saved index, or None when it is missing, unreadable or of other settings."""
        faiss = import_faiss()
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["metric"]) != metric.name:
                    return None
                index = cls(metric, dim, str(z["kind"]), config)
                index.faiss = faiss.deserialize_index(z["faiss"])
                index._ids = z["ids"].astype(np.int64)
                index._n = len(index._ids)
                index.labels = _decode_labels(z)
                index._dead = set(z["dead"].tolist())
                gen, count, checksum = (int(v) for v in z["state"])
                index.generation, index.count, index.checksum = gen, count, checksum
                index.rebuild_token = str(z["token"])
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        if index.faiss.d != dim or index.faiss.ntotal != index._n or len(index.labels) != index._n:
            return None
        if index.kind == "hnsw":
            index.faiss.hnsw.efSearch = config.ef_search
        return index


def _encode_labels(labels: list[str]) -> dict[str, npt.NDArray[Any]]:
    """Labels as one UTF-8 byte array and their end offsets, so each label costs its own
    length (a numpy string array pads every label to the longest one)."""
    encoded = [lab.encode("utf-8", "surrogatepass") for lab in labels]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return {
        "label_bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "label_ends": ends,
    }


def _decode_labels(z: Any) -> list[str]:
    """Inverse of :func:`_encode_labels`; reads the older padded ``labels`` array too."""
    if "label_bytes" not in z:
        return [str(lab) for lab in z["labels"].tolist()]
    data = z["label_bytes"].tobytes()
    ends = z["label_ends"].tolist()
    starts = [0, *ends[:-1]]
    return [data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends, strict=True)]
