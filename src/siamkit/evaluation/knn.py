"""Exact k-nearest-neighbour search between a query set and a gallery, in bounded memory.

FAISS flat (brute-force, exact) indexes do the work when ``faiss`` is installed (the
``siamkit[faiss]`` extra); otherwise a chunked torch search over ``Distance.matrix`` gives the
same neighbours. Either way the queries are searched ``chunk_size`` rows at a time, so the
temporary memory is ``O(chunk_size * G)`` on top of the gallery itself.

=====================  =====================================================  ==============
distance               FAISS index                                            reported value
=====================  =====================================================  ==============
``squared_euclidean``  ``IndexFlatL2``                                        ``‖q - g‖²``
``euclidean``          ``IndexFlatL2``                                        ``‖q - g‖₂``
``cosine``             ``IndexFlatIP`` over L2-normalised rows                ``1 - cos``
``manhattan``          ``IndexFlat(d, METRIC_L1)``                            ``‖q - g‖₁``
any other Distance     torch fallback (``matrix`` + ``topk``)                 its own values
=====================  =====================================================  ==============

Example:
    >>> gallery, queries = torch.randn(1000, 16), torch.randn(10, 16)
    >>> nb = knn_search(queries, gallery, k=5, distance="cosine")
    >>> nb.indices.shape, nb.distances.shape  # (Q, 5) each, closest first
    ((10, 5), (10, 5))
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from siamkit.distances import (
    CosineDistance,
    Distance,
    EuclideanDistance,
    ManhattanDistance,
    SquaredEuclideanDistance,
    get_distance,
)

# FAISS's BLAS searches multiply query blocks by gallery blocks of this many rows. Its default,
# 1024, keeps the matrix products so small that a 100k x 128 search runs at about half speed.
# The temporary block is min(c, 4096) x min(G, 16384) float32 for c queries: 64 MiB for the
# default 1024. Raised only while siamkit searches (see _larger_faiss_blocks).
_FAISS_DATABASE_BLOCK = 16384

# Same floor as torch.nn.functional.normalize's default, so both paths treat zero rows alike
# (a zero row normalises to zero: cosine distance 1 to everything).
_NORM_EPS = 1e-8


class Neighbours(NamedTuple):
    """The k nearest gallery items of each query, closest first.

    Attributes:
        indices: ``(Q, k)`` int64 rows of the gallery.
        distances: ``(Q, k)`` float32 values in the distance's own units (for a similarity,
            larger values come first).
    """

    indices: np.ndarray
    distances: np.ndarray


class ExactKnn:
    """A gallery prepared once for repeated exact k-NN searches (FAISS, or torch without it).

    ``knn_search`` is the one-call interface; this class lets a caller that searches many query
    chunks against the same gallery (``retrieval_metrics``) build the FAISS index only once.

    Args:
        gallery: ``(G, D)`` embeddings, numpy or torch (moved to CPU float32).
        distance: A ``Distance`` or its registered name.
        chunk_size: Query rows searched at a time; memory is ``O(chunk_size * G)``.

    Example:
        >>> gallery = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
        >>> knn = ExactKnn(gallery, "euclidean")
        >>> nb = knn.search(gallery[:2], k=2, self_offset=0)  # rows 0 and 1 skip themselves
        >>> nb.indices
        array([[1, 2],
               [0, 2]])
    """

    def __init__(
        self, gallery: np.ndarray | Tensor, distance: Distance | str, chunk_size: int = 1024
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.distance = get_distance(distance)
        self.chunk_size = chunk_size
        self.gallery = as_float32_matrix(gallery, "gallery")  # (G, D)
        self._faiss_index = _build_faiss_index(self.gallery, self.distance)
        self._torch_gallery = (
            torch.from_numpy(self.gallery) if self._faiss_index is None else None
        )  # (G, D)

    @property
    def uses_faiss(self) -> bool:
        """True when searches run on a FAISS flat index, False for the torch fallback."""
        return self._faiss_index is not None

    def __len__(self) -> int:
        return int(self.gallery.shape[0])

    def search(
        self, query: np.ndarray | Tensor, k: int, self_offset: int | None = None
    ) -> Neighbours:
        """The ``k`` nearest gallery items of each query row, closest first.

        Args:
            query: ``(Q, D)`` embeddings.
            k: Neighbours per query, ``1 <= k <= G`` (``G - 1`` with ``self_offset``).
            self_offset: When the queries are gallery rows ``self_offset ... self_offset + Q - 1``
                (query i is gallery item ``self_offset + i``), each query's own row is left out.
                It is removed by index, not by distance, so duplicates of a query still count as
                its neighbours. ``None`` (default): queries and gallery are different sets.

        Returns:
            ``Neighbours`` with ``(Q, k)`` indices and distances.
        """
        q = as_float32_matrix(query, "query")  # (Q, D)
        g_count, dim = self.gallery.shape
        if q.shape[1] != dim:
            raise ValueError(
                f"embedding sizes differ: query has D={q.shape[1]}, gallery has D={dim}; both "
                "must come from the same model"
            )
        available = g_count - (0 if self_offset is None else 1)
        if k < 1 or k > available:
            which = "gallery items" if self_offset is None else "gallery items other than itself"
            raise ValueError(
                f"k must be between 1 and the number of {which} ({available}); got k={k}. "
                f"Pass k <= {available} or add items to the gallery"
            )
        if self_offset is not None and not 0 <= self_offset <= g_count - q.shape[0]:
            raise ValueError(
                f"self_offset={self_offset} with {q.shape[0]} queries points outside the gallery "
                f"of {g_count} rows; the queries must be gallery rows self_offset.. "
                "self_offset + Q - 1"
            )
        # One extra neighbour when the query's own row must be dropped afterwards.
        k_search = k + (0 if self_offset is None else 1)
        idx_blocks: list[np.ndarray] = []
        dist_blocks: list[np.ndarray] = []
        for s in range(0, q.shape[0], self.chunk_size):
            chunk = q[s : s + self.chunk_size]  # (c, D)
            idx, dist = self._search_chunk(chunk, k_search)  # (c, k_search) each
            if self_offset is not None:
                own = np.arange(self_offset + s, self_offset + s + chunk.shape[0])  # (c,)
                idx, dist = _drop_own_row(idx, dist, own)  # (c, k) each
            idx_blocks.append(idx)
            dist_blocks.append(dist)
        if not idx_blocks:
            return Neighbours(np.zeros((0, k), np.int64), np.zeros((0, k), np.float32))
        return Neighbours(
            np.concatenate(idx_blocks).astype(np.int64, copy=False),
            np.concatenate(dist_blocks).astype(np.float32, copy=False),
        )

    def _search_chunk(self, chunk: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._faiss_index is not None:
            return _faiss_search(self._faiss_index, chunk, k, self.distance)
        assert self._torch_gallery is not None
        values = self.distance.matrix(
            torch.from_numpy(chunk), self._torch_gallery, chunk_size=self.chunk_size
        )  # (c, G)
        top = torch.topk(values, k, dim=1, largest=self.distance.larger_is_closer, sorted=True)
        return top.indices.numpy(), top.values.numpy()


def knn_search(
    query: np.ndarray | Tensor,
    gallery: np.ndarray | Tensor,
    k: int,
    distance: Distance | str,
    exclude_self: bool = False,
    chunk_size: int = 1024,
) -> Neighbours:
    """Exact k nearest gallery items of every query, closest first.

    Uses FAISS flat indexes when ``faiss`` is installed and the distance is one of the four
    registered ones (see the module table), the chunked torch ``Distance.matrix`` otherwise;
    both return the same neighbours up to ties and float32 rounding.

    Args:
        query: ``(Q, D)`` embeddings, numpy or torch.
        gallery: ``(G, D)`` embeddings, numpy or torch.
        k: Neighbours per query: ``1 <= k <= G`` (``G - 1`` with ``exclude_self``).
        distance: A ``Distance`` or its registered name.
        exclude_self: The queries are the gallery itself (query i is gallery item i): each
            query's own row is dropped by index, so duplicates of it are still neighbours.
        chunk_size: Query rows searched at a time; temporary memory is ``O(chunk_size * G)``.

    Returns:
        ``Neighbours(indices, distances)``: ``(Q, k)`` int64 gallery rows and ``(Q, k)``
        float32 values in the distance's own units.

    Raises:
        ValueError: on a bad ``k`` or ``chunk_size``, mismatched embedding sizes, non-2-D
            inputs, NaN or inf values, or ``exclude_self`` with ``Q != G``.

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [5.0], [7.0]])
        >>> nb = knn_search(x, x, k=1, distance="euclidean", exclude_self=True)
        >>> nb.indices[:, 0]  # (N,) nearest other item of each row
        array([1, 0, 3, 2])
    """
    q = as_float32_matrix(query, "query")  # (Q, D)
    knn = ExactKnn(gallery, distance, chunk_size=chunk_size)
    if exclude_self:
        q_count = q.shape[0]
        if q_count != len(knn):
            raise ValueError(
                f"exclude_self=True means query i is gallery item i, so both need the same "
                f"number of rows; got {q_count} queries and {len(knn)} gallery items. Pass "
                "the same embeddings twice, or exclude_self=False for separate sets"
            )
    return knn.search(q, k, self_offset=0 if exclude_self else None)


def as_float32_matrix(x: np.ndarray | Tensor, name: str) -> np.ndarray:
    """``x`` as a C-contiguous float32 ``(N, D)`` numpy array with finite values only.

    Args:
        x: ``(N, D)`` numpy array or torch tensor (any device; gradients are detached).
        name: What ``x`` is, for error messages (``"query"``, ``"gallery"``).

    Raises:
        ValueError: if ``x`` is not 2-D, or holds NaN or inf (after the cast to float32).
    """
    arr = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} embeddings must be 2-D (N, D); got shape {tuple(arr.shape)}. Reshape "
            "with .reshape(len(x), -1) or add a batch dimension"
        )
    with np.errstate(over="ignore"):  # an overflow becomes inf, reported just below
        out = np.ascontiguousarray(arr, dtype=np.float32)  # (N, D)
    if not np.isfinite(out).all():
        bad = int(np.count_nonzero(~np.isfinite(out).all(axis=1)))
        raise ValueError(
            f"{name} embeddings contain NaN or inf in {bad} of {out.shape[0]} rows (after the "
            "cast to float32); check the model for diverged weights or overflowing inputs"
        )
    return out


def _faiss_metric_key(distance: Distance) -> str | None:
    # The exact class, not isinstance: a subclass may change the values and must use its own
    # matrix() through the torch path.
    return {
        SquaredEuclideanDistance: "l2",
        EuclideanDistance: "l2",
        CosineDistance: "ip",
        ManhattanDistance: "l1",
    }.get(type(distance))


def _build_faiss_index(gallery: np.ndarray, distance: Distance) -> Any | None:
    """A FAISS flat index holding ``gallery``; None without faiss or for other distances."""
    key = _faiss_metric_key(distance)
    if key is None:
        return None
    try:
        import faiss
    except ImportError:
        return None
    dim = gallery.shape[1]
    index: Any
    if key == "l2":
        index = faiss.IndexFlatL2(dim)
    elif key == "ip":
        index = faiss.IndexFlatIP(dim)
        gallery = _l2_normalise(gallery)
    else:
        index = faiss.IndexFlat(dim, faiss.METRIC_L1)
    index.add(gallery)
    return index


def _faiss_search(
    index: Any, chunk: np.ndarray, k: int, distance: Distance
) -> tuple[np.ndarray, np.ndarray]:
    """``(c, k)`` indices and values of one query chunk, converted to ``distance``'s units."""
    key = _faiss_metric_key(distance)
    if key == "ip":
        chunk = _l2_normalise(chunk)
    with _larger_faiss_blocks():
        raw, idx = index.search(chunk, k)  # (c, k) each
    if key == "l2":
        raw = np.maximum(raw, 0.0)  # BLAS rounding can dip just below 0
        if isinstance(distance, EuclideanDistance):
            raw = np.sqrt(raw)
    elif key == "ip":
        raw = 1.0 - raw
    return idx, raw


_block_lock = threading.Lock()
_block_users = 0  # searches inside _larger_faiss_blocks right now
_block_saved = 0  # FAISS's value before the first of them


@contextmanager
def _larger_faiss_blocks() -> Iterator[None]:
    """Raise FAISS's BLAS gallery block to ``_FAISS_DATABASE_BLOCK`` rows while searching.

    The setting is process-wide, so it is reference-counted: the last concurrent search to
    finish restores the caller's value, and nothing leaks once all searches are done. It only
    changes speed and temporary memory, never results.
    """
    import faiss

    global _block_users, _block_saved
    cvar = getattr(faiss, "cvar", None)
    if cvar is None or not hasattr(cvar, "distance_compute_blas_database_bs"):
        yield
        return
    with _block_lock:
        if _block_users == 0:
            _block_saved = int(cvar.distance_compute_blas_database_bs)
            cvar.distance_compute_blas_database_bs = max(_block_saved, _FAISS_DATABASE_BLOCK)
        _block_users += 1
    try:
        yield
    finally:
        with _block_lock:
            _block_users -= 1
            if _block_users == 0:
                cvar.distance_compute_blas_database_bs = _block_saved


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)  # (N, 1)
    return np.ascontiguousarray(x / np.maximum(norms, _NORM_EPS), dtype=np.float32)


def _drop_own_row(
    idx: np.ndarray, dist: np.ndarray, own: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own gallery index from ``k + 1`` results, leaving ``k``.

    Where the own index is absent (more exact duplicates than ``k + 1`` pushed it out), the
    last result is removed instead, so every row keeps its ``k`` closest other items.
    """
    drop = idx == own[:, None]  # (c, k+1)
    missing = ~drop.any(axis=1)  # (c,)
    drop[missing, -1] = True
    # A row can hold its own index at most once, so exactly one entry per row is dropped.
    keep = ~drop
    c, k_plus_1 = idx.shape
    return idx[keep].reshape(c, k_plus_1 - 1), dist[keep].reshape(c, k_plus_1 - 1)
