"""Cutting documents into overlapping passages of whole sentences, with character offsets.

A long document is compared passage by passage, so a copied paragraph inside it is found even
when the rest differs. Windows hold whole sentences up to ``max_chars`` and start every
``stride`` sentences' worth of text (half a window by default), so a copied span is inside one
window even when it straddles two.

Example:
    >>> [(p.start, p.end) for p in cut_passages("One two. Three four. Five six.", max_chars=25)]
    [(0, 20), (9, 30)]
"""

from __future__ import annotations

import re
from typing import NamedTuple

SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")  # after . ! ? ; : or at a blank line


class Passage(NamedTuple):
    """A slice ``text[start:end]`` of document ``doc`` (an index into the corpus)."""

    doc: int
    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, whitespace around it excluded."""
    spans = []
    pos = 0
    for m in [*SENTENCE_END.finditer(text), None]:
        end = len(text) if m is None else m.start()
        chunk = text[pos:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((pos + lead, pos + len(chunk.rstrip())))
        if m is not None:
            pos = m.end()
    return spans


def cut_passages(text: str, doc: int = 0, max_chars: int = 300) -> list[Passage]:
    """Overlapping windows of whole sentences, each at most ``max_chars`` long (a single longer
    sentence is cut at ``max_chars``); consecutive windows overlap by about half.

    Args:
        text: The document.
        doc: Its index, stored in each passage.
        max_chars: Longest window. Short windows (2-3 sentences) find a copied paragraph
            inside a long document; MiniLM reads up to about 1,000 characters.
    """
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    spans: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):  # split over-long sentences
        while e - s > max_chars:
            spans.append((s, s + max_chars))
            s += max_chars
        spans.append((s, e))
    if not spans:
        return []
    out: list[Passage] = []
    i = 0
    while True:
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= max_chars:
            j += 1
        start, end = spans[i][0], spans[j][1]
        if not out or end > out[-1].end:  # a window inside the previous one adds nothing
            out.append(Passage(doc, start, end, text[start:end]))
        if j == len(spans) - 1:
            return out
        # the next window starts at the sentence holding the middle of this one
        middle = start + (end - start) // 2
        nxt = next((k for k in range(i + 1, j + 1) if spans[k][1] > middle), j + 1)
        i = max(i + 1, nxt)
