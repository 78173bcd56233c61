r"""The documents to deduplicate: a folder of ``.txt``/``.md`` files, or a CSV/JSONL of records.

Example:
    >>> Path("essays").mkdir()
    >>> _ = Path("essays/a.txt").write_text("Siamese networks share one encoder.")
    >>> _ = Path("essays/b.md").write_text("Twin networks share a single encoder.")
    >>> docs = read_corpus("essays/")  # every .txt and .md file below it
    >>> [(doc.id, len(doc.text)) for doc in docs]
    [('a.txt', 35), ('b.md', 37)]
    >>> _ = Path("posts.csv").write_text("id,text\np1,Hello there.\np2,Hello again.\n")
    >>> read_corpus("posts.csv")[1]
    Document(id='p2', text='Hello again.')
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

from siamkit.data.text import read_records
from siamkit.readers import TEXT_SUFFIXES

RECORD_SUFFIXES = (".csv", ".jsonl", ".ndjson")


class Document(NamedTuple):
    """One document: a name (relative path, or the record's ``id``) and its text."""

    id: str
    text: str


def read_corpus(
    source: str | Path, text_column: str = "text", id_column: str = "id"
) -> list[Document]:
    """Documents from a folder (``.txt``/``.md``, recursive) or a ``.csv``/``.jsonl`` file of
    records with a ``text`` column and an optional ``id`` column (default id: ``FILE:LINE``).

    Raises:
        ValueError: Nothing to read, an unreadable file, an empty record (named), or
            duplicate ids.

    Warns:
        UserWarning: An empty ``.txt``/``.md`` file, named; it is skipped, not the whole run.
    """

    path = Path(source)
    docs: list[Document] = []
    if path.is_dir():
        files = sorted(
            f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES
        )
        if not files:
            raise ValueError(f"folder {path} holds no .txt or .md files")
        for f in files:
            text = f.read_text(encoding="utf-8", errors="replace")
            if not text.strip():  # one empty file does not stop the run
                warnings.warn(f"document {f} is empty; skipped", UserWarning, stacklevel=2)
                continue
            docs.append(Document(str(f.relative_to(path)), text))
    elif path.is_file() and path.suffix.lower() in RECORD_SUFFIXES:
        rows = read_records(path, [text_column])
        try:
            ids = [str(r[id_column]) for _, r in read_records(path, [id_column])]
        except ValueError:  # no id column: name records by file and line
            ids = [where for where, _ in rows]
        for (where, row), doc_id in zip(rows, ids, strict=True):
            value = row[text_column]
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}: {text_column} is empty; every record needs text")
            docs.append(Document(doc_id, value))
    elif path.exists():
        raise ValueError(
            f"{path}: give a folder of .txt/.md files or a .csv/.jsonl file of records "
            f"(got a {path.suffix or 'file without suffix'})"
        )
    else:
        raise ValueError(f"{path} does not exist")
    seen: set[str] = set()
    for d in docs:
        if d.id in seen:
            raise ValueError(f"document id {d.id!r} appears twice in {path}; ids must be unique")
        seen.add(d.id)
    if len(docs) < 2:
        raise ValueError(f"{path} holds {len(docs)} document; deduplication needs at least 2")
    return docs
