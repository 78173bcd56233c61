"""Writing dedup results: one CSV row per matching passage pair, and the groups.

Columns of ``pairs.csv``: ``doc_a, doc_b, doc_similarity, passage_similarity, a_start, a_end,
b_start, b_end`` (character offsets, end exclusive) and, with clusters, ``cluster``. The
groups file holds ``cluster, doc`` rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from siamkit.dedup.corpus import Document
from siamkit.dedup.detect import DedupResult

COLUMNS = [
    "doc_a", "doc_b", "doc_similarity", "passage_similarity", "a_start", "a_end", "b_start",
    "b_end",
]  # fmt: skip


def _atomic_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


def write_pairs(result: DedupResult, path: str | Path, clusters: bool = False) -> Path:
    """Write one row per matching passage pair (document pairs most similar first)."""
    rows: list[list[object]] = []
    for p in result.pairs:
        for m in p.matches:
            row: list[object] = [
                p.doc_a, p.doc_b, f"{p.similarity:.4f}", f"{m.similarity:.4f}",
                m.a_start, m.a_end, m.b_start, m.b_end,
            ]  # fmt: skip
            rows.append([*row, p.cluster] if clusters else row)
    header = [*COLUMNS, "cluster"] if clusters else COLUMNS
    _atomic_csv(Path(path), header, rows)
    return Path(path)


def write_clusters(result: DedupResult, docs: Sequence[Document], path: str | Path) -> Path:
    """Write ``cluster, doc`` rows: each near-duplicate group and its documents."""
    rows: list[list[object]] = [[c, docs[d].id] for c, g in enumerate(result.clusters) for d in g]
    _atomic_csv(Path(path), ["cluster", "doc"], rows)
    return Path(path)
