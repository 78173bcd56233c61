r"""Text data: ``text-pairs:FILE`` and ``text-labelled:FILE`` (CSV with a header, or JSONL).

* ``text-labelled``: columns ``text`` and ``label``; each label is a class.
* ``text-pairs``: columns ``text_a``, ``text_b`` and ``label`` (or ``score``). **In the file,
  1 means similar** (a duplicate, a paraphrase), 0 unrelated, and a graded score in [0, 1] is a
  similarity, as in Quora, MRPC and STS files. This is the opposite of the contrastive loss's
  ``Y`` (1 = dissimilar); siamkit converts, you never flip it yourself. As labelled data, each
  row scoring >= 0.5 becomes a class of its two texts (so P×K batches with K = 2 are batches of
  pairs whose other rows are the in-batch negatives, the multiple-negatives-ranking set-up);
  rows below 0.5 only appear through :func:`read_text_pairs`.

Items are token ids ``(N, L)`` made by the text encoder's tokenizer (``SourceOptions.tokenizer``).

Example:
    >>> from siamkit.data import load_data
    >>> _ = Path("questions.csv").write_text(
    ...     "text,label\n"
    ...     "How do I reset my password?,reset\n"
    ...     "I forgot my password,reset\n"
    ...     "Where is my order?,order\n"
    ... )
    >>> data = load_data("text-labelled:questions.csv")
    >>> data.kind, data.x.dtype, data.class_names
    ('text', torch.int64, ['order', 'reset'])
    >>> data.y.tolist()
    [1, 1, 0]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from siamkit.data.labelled import LabelledData
from siamkit.data.sources import SourceOptions, Split, _natural_key, read_csv_rows
from siamkit.models.text_tokenizer import load_tokenizer

SIMILAR_AT = 0.5  # a pair scoring at least this is a similar pair


class TextPair(NamedTuple):
    """One row of a pairs file: two texts and their similarity (1 = same meaning)."""

    text_a: str
    text_b: str
    score: float
    source: str  # FILE:LINE


Column = str | tuple[str, ...]  # a column name, or alternatives (the first names it)


def read_records(path: Path, columns: Sequence[Column]) -> list[tuple[str, dict[str, object]]]:
    """Rows of a CSV (header) or JSONL file as ``(FILE:LINE, {column: value})``.

    Args:
        path: A ``.csv`` file with a header row, or ``.jsonl`` (one JSON object a line).
        columns: Names to read; a tuple gives alternatives, stored under its first name.

    Raises:
        ValueError: Missing file, missing columns (named, with those present) or a bad line.
    """
    if not path.is_file():
        raise ValueError(f"text file {path} not found")
    wanted = [(c,) if isinstance(c, str) else tuple(c) for c in columns]
    need = ", ".join(" or ".join(alts) for alts in wanted)

    def pick(present: Sequence[str], where: str) -> dict[str, str]:
        chosen: dict[str, str] = {}
        for alts in wanted:
            found = next((a for a in alts if a in present), None)
            if found is None:
                raise ValueError(
                    f"{where}: no {' or '.join(alts)}; a text file needs {need} "
                    f"(has {', '.join(present)})"
                )
            chosen[alts[0]] = found
        return chosen

    rows: list[tuple[str, dict[str, object]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} line {n}: not a JSON object ({e.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path} line {n}: expected a JSON object, got {obj!r:.60}")
            cols = pick(list(obj), f"{path} line {n}")
            rows.append((f"{path}:{n}", {k: obj[c] for k, c in cols.items()}))
    else:
        header, body = read_csv_rows(path)
        cols = pick(header, str(path))
        for n, row in enumerate(body, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path} line {n}: {len(row)} fields, header has {len(header)}")
            rows.append((f"{path}:{n}", {k: row[header.index(c)] for k, c in cols.items()}))
    if not rows:
        raise ValueError(f"{path} holds no rows")
    return rows


def _text(value: object, where: str, column: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {column} is empty ({value!r}); every row needs text")
    return value


def read_text_pairs(path: str | Path) -> list[TextPair]:
    """The rows of a pairs file (``text_a``, ``text_b``, ``label`` or ``score``).

    Raises:
        ValueError: An empty text or a label outside [0, 1], naming the row.
    """
    path = Path(path)
    out = []
    for where, row in read_records(path, ["text_a", "text_b", ("label", "score")]):
        a, b = _text(row["text_a"], where, "text_a"), _text(row["text_b"], where, "text_b")
        try:
            score = float(row["label"])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(
                f"{where}: label {row['label']!r} is not a number; use 1 (similar), "
                "0 (unrelated) or a similarity in [0, 1]"
            ) from None
        if not 0.0 <= score <= 1.0:
            raise ValueError(
                f"{where}: label {score} is outside [0, 1]; 1 = similar, 0 = unrelated "
                "(rescale graded scores, e.g. STS 0-5 divided by 5)"
            )
        out.append(TextPair(a, b, score, where))
    return out


def text_data(
    texts: Sequence[str],
    labels: Sequence[int],
    class_names: list[str],
    tokenizer: str = "minilm",
    max_length: int = 128,
    sources: list[str] | None = None,
) -> LabelledData:
    """Labelled texts -> :class:`LabelledData` of kind ``text`` with ``x`` = ids ``(N, L)``."""

    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            where = sources[i] if sources else f"item {i}"
            raise ValueError(f"{where}: empty text ({t!r}); every item needs text")
    ids = load_tokenizer(tokenizer).encode(list(texts), max_length)  # (N, L)
    y = torch.tensor(list(labels), dtype=torch.long)
    return LabelledData(ids, y, class_names, "text", sources)


def text_pairs(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """A pairs file: each similar row (score >= 0.5) is a class of its two texts, ``text_a``
    in the anchor role (0) and ``text_b`` in the response role (1)."""
    if not arg:
        raise ValueError("text-pairs needs a file: --data text-pairs:PATH (.csv or .jsonl)")
    pairs = [p for p in read_text_pairs(Path(arg)) if p.score >= SIMILAR_AT]
    if len(pairs) < 2:
        raise ValueError(
            f"{arg} has {len(pairs)} similar pairs (label/score >= {SIMILAR_AT}); training and "
            "evaluation need at least 2 (1 = similar in a pairs file)"
        )
    texts = [t for p in pairs for t in (p.text_a, p.text_b)]
    labels = [k for k in range(len(pairs)) for _ in (0, 1)]
    sources = [f"{p.source}:{side}" for p in pairs for side in ("a", "b")]
    names = [str(k) for k in range(len(pairs))]
    data = text_data(texts, labels, names, options.tokenizer, options.max_length, sources)
    data.roles = torch.tensor([0, 1]).repeat(len(pairs))  # (2P,) text_a, text_b of each pair
    return data


def text_labelled(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """A file of ``text``, ``label`` rows; each label is a class."""
    if not arg:
        raise ValueError("text-labelled needs a file: --data text-labelled:PATH (.csv or .jsonl)")
    rows = read_records(Path(arg), ["text", "label"])
    texts = [_text(r["text"], where, "text") for where, r in rows]
    raw = [str(r["label"]) for _, r in rows]
    classes = sorted(set(raw), key=_natural_key)
    index = {c: i for i, c in enumerate(classes)}
    return text_data(
        texts,
        [index[c] for c in raw],
        classes,
        options.tokenizer,
        options.max_length,
        [where for where, _ in rows],
    )
