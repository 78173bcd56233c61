"""Recall and precision on planted near-duplicates (verbatim, paraphrased, plagiarised)."""

from __future__ import annotations

from typing import Any

import pytest

from siamkit.dedup import find_duplicates, read_corpus
from siamkit.dedup.passages import sentence_spans
from siamkit.dedup.report import shared_spans
from siamkit.run.text import load_text_embedder


@pytest.fixture(scope="module")
def found(planted: Any):  # type: ignore[no-untyped-def]
    docs = read_corpus(planted.folder)
    return docs, find_duplicates(docs, load_text_embedder("minilm"), threshold="auto")


def test_planted_pairs_are_found_and_nothing_else(planted: Any, found) -> None:  # type: ignore[no-untyped-def]
    _, result = found
    got = {frozenset({p.doc_a, p.doc_b}) for p in result.pairs}
    hits = got & planted.pairs
    recall = len(hits) / len(planted.pairs)
    precision = len(hits) / max(len(got), 1)
    assert recall >= 0.9, (recall, [planted.kinds[k] for k in planted.pairs - got])
    assert precision >= 0.9, sorted(tuple(sorted(k)) for k in got - planted.pairs)
    for kind in ("verbatim", "plagiarism"):  # copied text is always found
        want = {k for k, v in planted.kinds.items() if v == kind}
        assert want <= got, kind
    paraphrases = {k for k, v in planted.kinds.items() if v == "paraphrase"}
    assert len(paraphrases & got) >= 4
    # never all pairs: each passage asked the index for a few neighbours only
    n = len(result.passages)
    assert result.candidates < n * (n - 1) / 2 / 4


def test_offsets_point_at_the_copied_text(planted: Any, found) -> None:  # type: ignore[no-untyped-def]
    docs, result = found
    text = {d.id: d.text for d in docs}
    for pair in result.pairs:
        kind = planted.kinds.get(frozenset({pair.doc_a, pair.doc_b}))
        best = pair.matches[0]
        a = text[pair.doc_a][best.a_start : best.a_end]
        b = text[pair.doc_b][best.b_start : best.b_end]
        assert best.similarity == pair.similarity
        if kind == "verbatim":  # the same sentences, whitespace aside
            assert " ".join(a.split()) == " ".join(b.split())
            assert best.similarity > 0.99
        if kind == "plagiarism":  # the host's matching passage holds pasted sentences
            src_id, host_id = sorted((pair.doc_a, pair.doc_b), key=lambda d: d.startswith("plag"))
            spans = sentence_spans(text[src_id])[:3]  # the planted copy: its first 3 sentences
            pasted = text[src_id][spans[0][0] : spans[2][1]]
            at = text[host_id].index(pasted)
            start, end = (
                (best.a_start, best.a_end) if host_id == pair.doc_a else (best.b_start, best.b_end)
            )
            assert min(end, at + len(pasted)) - max(start, at) > 0  # overlaps the pasted span
            sa, _ = shared_spans(a, b, min_words=10)  # and shares verbatim runs of 10+ words
            assert sum(e - s for s, e in sa) >= 0.3 * min(len(a), len(b))
