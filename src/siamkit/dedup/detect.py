"""Finding near-duplicate documents: passages embedded, candidates from a FAISS index, pairs
above a threshold, grouped by document pair.

Every passage is embedded (L2-normalised) and put in a FAISS inner-product index; each passage
asks for its nearest neighbours, so the work grows with ``N·k``, never with all ``N²`` pairs.
Passage pairs of two different documents at or above the threshold become matches; a
document pair's similarity is its best match.

Example:
    >>> from pathlib import Path
    >>> from siamkit.dedup import read_corpus
    >>> from siamkit.run.text import load_text_embedder
    >>> Path("essays").mkdir()
    >>> for name, text in [
    ...     ("a.txt", "Siamese networks compare two inputs with one shared encoder."),
    ...     ("b.txt", "A Siamese network compares two inputs using a single shared encoder."),
    ...     ("c.txt", "Bread rises because yeast turns sugar into carbon dioxide."),
    ... ]:
    ...     _ = (Path("essays") / name).write_text(text)
    >>> result = find_duplicates(read_corpus("essays/"), load_text_embedder("minilm"))
    >>> [(pair.doc_a, pair.doc_b, round(pair.similarity, 2)) for pair in result.pairs]
    [('a.txt', 'b.txt', 0.95)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from siamkit.dedup.clusters import connected_groups
from siamkit.dedup.corpus import Document
from siamkit.dedup.passages import Passage, cut_passages
from siamkit.dedup.threshold import auto_threshold
from siamkit.run.text import TextEmbedder


class Match(NamedTuple):
    """A matching passage pair: character offsets into each document and their cosine."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    similarity: float


@dataclass
class DocPair:
    """Two near-duplicate documents (``a`` before ``b`` in the corpus) and their matches.

    Attributes:
        a, b: Indices into the corpus; ``doc_a``/``doc_b`` their ids.
        similarity: The best passage similarity (cosine).
        matches: Matching passage pairs, most similar first.
        cluster: Index of the near-duplicate group both belong to.
    """

    a: int
    b: int
    doc_a: str
    doc_b: str
    similarity: float
    matches: list[Match] = field(default_factory=list)
    cluster: int = -1


@dataclass
class DedupResult:
    """What :func:`find_duplicates` found.

    Attributes:
        pairs: Document pairs at or above the threshold, most similar first.
        clusters: Groups of document indices joined by those pairs (each of 2 or more).
        threshold: The cosine similarity used (given, or chosen by ``auto``).
        passages: Every passage embedded.
        candidates: Passage pairs of different documents the index proposed (before the
            threshold): what was compared instead of all pairs.
    """

    pairs: list[DocPair]
    clusters: list[list[int]]
    threshold: float
    passages: list[Passage]
    candidates: int


def passage_neighbours(
    emb: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Cosine similarities and indices ``(N, k)`` of each row's ``k`` nearest rows (FAISS,
    exact inner product over L2-normalised rows; the row itself included)."""
    try:
        import faiss
    except ImportError:
        raise ValueError("dedup needs FAISS: pip install 'siamkit[faiss]'") from None
    x = np.ascontiguousarray(emb, dtype=np.float32)
    faiss.normalize_L2(x)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    sims, idx = index.search(x, min(k, len(x)))
    return sims, idx.astype(np.int64)


def find_duplicates(
    docs: Sequence[Document],
    embedder: TextEmbedder,
    threshold: float | str = "auto",
    max_chars: int = 300,
    neighbours: int = 10,
) -> DedupResult:
    """Near-duplicate document pairs of ``docs``.

    Args:
        docs: The corpus (see :func:`~siamkit.dedup.corpus.read_corpus`).
        embedder: A text embedder (pretrained ``minilm`` or a trained text run).
        threshold: Cosine similarity in [-1, 1] at or above which two passages match, or
            ``auto`` (see :func:`~siamkit.dedup.threshold.auto_threshold`).
        max_chars: Longest passage; documents longer than this are cut into overlapping ones.
        neighbours: Nearest passages of other documents each passage is compared with.

    Raises:
        ValueError: A bad threshold or an empty corpus.
    """
    if isinstance(threshold, str) and threshold != "auto":
        raise ValueError(f"threshold must be a number or 'auto', got {threshold!r}")
    if not isinstance(threshold, str) and not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold is a cosine similarity in [-1, 1], got {threshold}")
    passages = [p for i, d in enumerate(docs) for p in cut_passages(d.text, i, max_chars)]
    if not passages:
        raise ValueError("no text to compare: every document is empty")
    emb = embedder.embed([p.text for p in passages])  # (N, D)
    owner = np.array([p.doc for p in passages])
    most = int(np.bincount(owner).max())  # a document's own passages come back first
    sims, idx = passage_neighbours(emb, neighbours + most)
    best = np.full(len(passages), -1.0, dtype=np.float32)  # best other-document similarity
    candidates: dict[tuple[int, int], float] = {}
    for i in range(len(passages)):
        for s, j in zip(sims[i], idx[i], strict=True):
            if j < 0 or owner[j] == owner[i]:
                continue
            best[i] = max(best[i], s)
            key = (i, int(j)) if i < j else (int(j), i)
            candidates[key] = max(candidates.get(key, -1.0), float(s))
    thr = auto_threshold(best[best > -1.0]) if threshold == "auto" else float(threshold)
    by_docs: dict[tuple[int, int], DocPair] = {}
    for (i, j), s in candidates.items():
        if s < thr:
            continue
        pi, pj = passages[i], passages[j]
        if pi.doc > pj.doc:
            pi, pj = pj, pi
        pair = by_docs.setdefault(
            (pi.doc, pj.doc), DocPair(pi.doc, pj.doc, docs[pi.doc].id, docs[pj.doc].id, s)
        )
        pair.matches.append(Match(pi.start, pi.end, pj.start, pj.end, s))
        pair.similarity = max(pair.similarity, s)
    pairs = sorted(by_docs.values(), key=lambda p: (-p.similarity, p.a, p.b))
    for p in pairs:
        p.matches.sort(key=lambda m: (-m.similarity, m.a_start, m.b_start))
    groups = connected_groups(len(docs), [(p.a, p.b) for p in pairs])
    cluster_of = {d: c for c, g in enumerate(groups) for d in g}
    for p in pairs:
        p.cluster = cluster_of[p.a]
    return DedupResult(pairs, groups, thr, passages, len(candidates))
