"""Duplicate and plagiarism detection over text documents (``siamkit dedup``).

Documents are cut into overlapping passages, embedded by a text encoder, and compared only
with their nearest neighbours in a FAISS index; passage matches above a threshold make
document pairs, and connected pairs make near-duplicate groups.
"""

from __future__ import annotations

from siamkit.dedup.clusters import connected_groups
from siamkit.dedup.corpus import Document, read_corpus
from siamkit.dedup.detect import DedupResult, DocPair, Match, find_duplicates
from siamkit.dedup.output import write_clusters, write_pairs
from siamkit.dedup.passages import Passage, cut_passages
from siamkit.dedup.report import write_report
from siamkit.dedup.threshold import auto_threshold

__all__ = [
    "DedupResult",
    "DocPair",
    "Document",
    "Match",
    "Passage",
    "auto_threshold",
    "connected_groups",
    "cut_passages",
    "find_duplicates",
    "read_corpus",
    "write_clusters",
    "write_pairs",
    "write_report",
]
