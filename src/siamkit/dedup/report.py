"""The dedup HTML report: matched passages side by side, the words they share highlighted.

One self-contained page (no scripts, no external files). Within each matched passage pair the
longest common word sequences (``difflib.SequenceMatcher`` over words, blocks of 3 or more
words) are wrapped in ``<mark>``, so verbatim copying stands out from paraphrase.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path

from siamkit.dedup.corpus import Document
from siamkit.dedup.detect import DedupResult

WORD = re.compile(r"\S+")
MIN_BLOCK = 3  # shortest run of shared words highlighted

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}mark{background:#ffe066}.sim{color:#555;font-size:.9em}
pre{white-space:pre-wrap;margin:0;font-family:inherit}
"""


Spans = list[tuple[int, int]]  # (start, end) character offsets


def shared_spans(a: str, b: str, min_words: int = MIN_BLOCK) -> tuple[Spans, Spans]:
    """Character spans of ``a`` and of ``b`` covered by common runs of ``min_words``+ words.

    Example:
        >>> shared_spans("the cat sat on the mat", "a cat sat on the rug")
        ([(4, 18)], [(2, 16)])
    """
    wa, wb = list(WORD.finditer(a)), list(WORD.finditer(b))
    sm = SequenceMatcher(None, [m.group() for m in wa], [m.group() for m in wb], autojunk=False)
    sa: Spans = []
    sb: Spans = []
    for blk in sm.get_matching_blocks():
        if blk.size >= min_words:
            sa.append((wa[blk.a].start(), wa[blk.a + blk.size - 1].end()))
            sb.append((wb[blk.b].start(), wb[blk.b + blk.size - 1].end()))
    return sa, sb


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """HTML of ``text`` with ``spans`` in ``<mark>`` (everything escaped)."""
    out, pos = [], 0
    for s, e in sorted(spans):
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def write_report(
    result: DedupResult,
    docs: Sequence[Document],
    path: str | Path,
    max_pairs: int = 200,
    matches_per_pair: int = 3,
) -> Path:
    """Write the HTML report of ``result`` to ``path`` (atomically) and return the path."""
    path = Path(path)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>siamkit dedup report</title>",
        f"<style>{STYLE}</style></head><body><h1>Near-duplicate documents</h1>",
        f"<p>{len(docs)} documents, {len(result.passages)} passages, {result.candidates} "
        f"candidate passage pairs from the index; threshold (cosine) {result.threshold:.3f}; "
        f"{len(result.pairs)} document pairs in {len(result.clusters)} groups.</p>",
    ]
    if not result.pairs:
        parts.append("<p>No near-duplicates at this threshold.</p>")
    for p in result.pairs[:max_pairs]:
        parts.append(
            f"<h2>{html.escape(p.doc_a)} ↔ {html.escape(p.doc_b)}</h2>"
            f"<p class='sim'>similarity {p.similarity:.3f}; group {p.cluster}; "
            f"{len(p.matches)} matching passage pairs</p><table>"
            f"<tr><th>{html.escape(p.doc_a)}</th><th>{html.escape(p.doc_b)}</th></tr>"
        )
        ta, tb = docs[p.a].text, docs[p.b].text
        for m in p.matches[:matches_per_pair]:
            a, b = ta[m.a_start : m.a_end], tb[m.b_start : m.b_end]
            sa, sb = shared_spans(a, b)
            parts.append(
                f"<tr><td><div class='sim'>chars {m.a_start}-{m.a_end}, cosine "
                f"{m.similarity:.3f}</div><pre>{highlight(a, sa)}</pre></td>"
                f"<td><div class='sim'>chars {m.b_start}-{m.b_end}</div>"
                f"<pre>{highlight(b, sb)}</pre></td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
