"""Passages, candidates, groups, threshold, corpus reading, the CLI and the HTML report."""

from __future__ import annotations

import csv
import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.dedup import connected_groups, cut_passages, read_corpus
from siamkit.dedup.detect import passage_neighbours
from siamkit.dedup.passages import sentence_spans
from siamkit.dedup.report import highlight, shared_spans
from siamkit.dedup.threshold import auto_threshold, otsu

TEXT = " ".join(f"Sentence number {i} says something {'long ' * (i % 4)}here." for i in range(25))


def test_passages_cover_every_sentence_with_exact_offsets() -> None:
    passages = cut_passages(TEXT, doc=3, max_chars=120)
    assert len(passages) > 3
    for p in passages:
        assert p.doc == 3 and p.text == TEXT[p.start : p.end] and len(p.text) <= 120
    for s, e in sentence_spans(TEXT):
        assert any(p.start <= s and e <= p.end for p in passages)
    for p, q in itertools.pairwise(passages):
        assert q.start < p.end < q.end  # consecutive windows overlap and move on
    assert [(p.start, p.end) for p in cut_passages("One two. Three four. Five six.", 0, 25)] == [
        (0, 20),
        (9, 30),
    ]
    long_word = "x" * 70
    assert [len(p.text) for p in cut_passages(long_word, 0, 30)] == [30, 30, 10]


def test_faiss_neighbours_match_a_plain_search() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    sims, idx = passage_neighbours(x.copy(), 5)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    full = xn @ xn.T
    for i in range(40):
        want = np.argsort(-full[i], kind="stable")[:5]
        assert set(idx[i].tolist()) == set(want.tolist())
        assert np.allclose(sims[i], full[i, idx[i]], atol=1e-5)


def test_groups_match_a_plain_search() -> None:
    rng = random.Random(0)
    edges = [(rng.randrange(30), rng.randrange(30)) for _ in range(20)]
    adj: dict[int, set[int]] = {i: set() for i in range(30)}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen: set[int] = set()
    want = []
    for i in range(30):
        if i in seen:
            continue
        stack, comp = [i], set()
        while stack:
            j = stack.pop()
            if j not in comp:
                comp.add(j)
                stack += adj[j]
        seen |= comp
        if len(comp) > 1:
            want.append(sorted(comp))
    assert connected_groups(30, edges) == want
    assert connected_groups(4, []) == []


def test_otsu_by_hand() -> None:
    assert otsu([0.30, 0.35, 0.40, 0.97, 0.99]) == pytest.approx(0.685)
    assert auto_threshold(np.array([0.30, 0.35, 0.40, 0.97, 0.99])) == 0.7  # the floor
    assert auto_threshold(np.array([0.2, 0.3, 0.9, 0.95, 0.99])) == pytest.approx(
        0.6 if False else 0.7
    )
    assert otsu([0.1, 0.2, 0.8, 0.9]) == pytest.approx(0.5)


def test_shared_spans_and_highlight() -> None:
    a, b = "the cat sat on the mat", "a cat sat on the rug"
    assert shared_spans(a, b) == ([(4, 18)], [(2, 16)])
    assert highlight("x <y> z", [(2, 5)]) == "x <mark>&lt;y&gt;</mark> z"


def test_read_corpus_records_and_errors(tmp_path: Path) -> None:
    jl = tmp_path / "r.jsonl"
    jl.write_text(
        json.dumps({"id": "a", "text": "one"})
        + "\n"
        + json.dumps({"id": "b", "text": "two"})
        + "\n"
    )
    assert [(d.id, d.text) for d in read_corpus(jl)] == [("a", "one"), ("b", "two")]
    c = tmp_path / "r.csv"
    c.write_text("text\nfirst doc\nsecond doc\n")
    assert [d.id for d in read_corpus(c)] == [f"{c}:2", f"{c}:3"]
    c.write_text('text\nfirst doc\n"  "\n')
    with pytest.raises(ValueError, match=r"r\.csv:3: text is empty"):
        read_corpus(c)
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    (folder / "b.md").write_text("")
    # issue 25: an empty file is skipped with a warning naming it, not the whole run's end
    with (
        pytest.warns(UserWarning, match=r"b\.md is empty; skipped"),
        pytest.raises(ValueError, match="holds 1 document"),
    ):
        read_corpus(folder)
    with pytest.raises(ValueError, match="does not exist"):
        read_corpus(tmp_path / "nope")


CORPUS = {
    "a.txt": "The committee approved the new budget after a long debate. Funding for schools "
    "will rise next year. Roads and bridges get a smaller share than before.",
    "b.txt": "The committee approved the new budget after a long debate. Funding for schools "
    "will rise next year. Roads and bridges get a smaller share than before.",
    "c.txt": "Penguins live in the southern hemisphere. They cannot fly but swim very well. "
    "Most species eat fish and krill.",
    "d.md": "A recipe for bread: mix flour, water, salt and yeast. Knead the dough and let it "
    "rise for two hours. Bake it in a hot oven.",
}


def test_cli_writes_pairs_clusters_and_report(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in CORPUS.items():
        (folder / name).write_text(text)
    out = tmp_path / "pairs.csv"
    report = tmp_path / "report.html"
    res = CliRunner().invoke(
        app,
        ["dedup", str(folder), "--threshold", "0.9", "--out", str(out), "--clusters",
         "--report", str(report)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert {(r["doc_a"], r["doc_b"]) for r in rows} == {("a.txt", "b.txt")}
    r = rows[0]
    text = CORPUS["a.txt"]
    assert (
        CORPUS["a.txt"][int(r["a_start"]) : int(r["a_end"])]
        == CORPUS["b.txt"][int(r["b_start"]) : int(r["b_end"])]
    )
    assert int(r["a_end"]) <= len(text) and float(r["passage_similarity"]) > 0.99
    groups = list(csv.DictReader((tmp_path / "pairs.clusters.csv").open()))
    assert sorted(g["doc"] for g in groups) == ["a.txt", "b.txt"]
    page = report.read_text()
    assert "<mark>The committee approved" in page and "a.txt" in page
    bad = CliRunner().invoke(app, ["dedup", str(folder), "--threshold", "high", "--out", str(out)])
    assert bad.exit_code == 2 and "auto or a number" in bad.output


def test_connected_groups_equal_a_plain_union_find_on_random_graphs() -> None:
    import random

    from siamkit.dedup.clusters import connected_groups

    def plain(n: int, edges: list[tuple[int, int]]) -> list[list[int]]:
        parent = list(range(n))

        def root(i: int) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for a, b in edges:
            parent[root(a)] = root(b)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(root(i), []).append(i)
        return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])

    rng = random.Random(0)
    for _ in range(50):
        n = rng.randint(1, 30)
        edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 25))]
        assert connected_groups(n, edges) == plain(n, edges)
