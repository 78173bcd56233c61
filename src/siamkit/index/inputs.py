"""What to enroll: files, folders with one subfolder per identity, CSV files, texts.

:func:`plan_enroll` turns command-line inputs into groups of sources with their identity, and
:func:`load_group` reads one group with the embedder's loader. Sources are made absolute, so an
item's stored source can be read again later (``gallery reembed``) from any directory.

Identities come from ``--label`` when given; otherwise from a folder's subfolders (one per
identity) or a CSV's ``label`` column. An image gallery reads a CSV of ``path,label`` rows
(paths relative to the CSV); a vector gallery reads a CSV of numeric feature columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from siamkit.index.errors import GalleryError
from siamkit.index.item_limits import check_label
from siamkit.readers import IMAGE_SUFFIXES, TEXT_SUFFIXES, read_csv_rows

VECTOR_SUFFIXES = {".npy", ".csv"}
_ROW = re.compile(r"^(?P<file>.+\.csv):(?P<row>\d+)$")
_NPY = re.compile(r"^(?P<file>.+\.npy)\[(?P<row>\d+)\]$")

Loader = Callable[[Sequence[str]], tuple[npt.NDArray[np.float32], list[str]]]


@dataclass(frozen=True)
class Group:
    """Sources of one enrolment step.

    Attributes:
        sources: Absolute file paths (or texts for a text gallery).
        labels: One identity per source, or None to read them from a vector CSV's ``label``
            column.
    """

    sources: list[str]
    labels: list[str] | None


def _suffixes(kind: str) -> set[str]:
    if kind == "image":
        return set(IMAGE_SUFFIXES)
    return set(TEXT_SUFFIXES) if kind == "text" else VECTOR_SUFFIXES


SINGLES_PER_STEP = 256  # single files or texts read and embedded together (memory stays bounded)


def plan_enroll(inputs: Sequence[str], label: str | None, kind: str) -> list[Group]:
    """Group inputs by identity for a gallery of ``kind`` (``image``, ``vector``, ``text``).

    Raises:
        GalleryError: An input that does not exist, has no identity, or has the wrong type;
            nothing has been read or written yet.
    """
    if not inputs:
        raise GalleryError("nothing to enroll: give files, folders, a CSV or texts")
    label = None if label is None else check_label(label)
    groups: list[Group] = []
    singles: int | None = None  # the group that single files and texts in a row are read in

    def single(source: str, identity: str) -> None:
        nonlocal singles
        full = singles is not None and len(groups[singles].sources) >= SINGLES_PER_STEP
        if singles is None or singles != len(groups) - 1 or full:
            groups.append(Group([], []))
            singles = len(groups) - 1
        groups[singles].sources.append(source)
        groups[singles].labels.append(identity)  # type: ignore[union-attr]

    for raw in inputs:
        # before any path test: Path("") is the working directory, which would enroll it
        if kind == "text" and not raw.strip():
            raise GalleryError("cannot enroll an empty text; give some words")
        if kind == "text" and not Path(raw).is_file() and not Path(raw).is_dir():
            single(raw, _need(label, "a text"))
            continue
        p = Path(raw)
        if not p.exists():
            raise GalleryError(
                f"input {raw} does not exist (a {kind} gallery enrolls "
                f"{'texts or ' if kind == 'text' else ''}files, folders or a CSV)"
            )
        p = p.resolve()
        if p.is_dir():
            groups += _folder(p, label, kind)
        elif p.suffix.lower() == ".csv" and kind == "image":
            groups.append(_image_csv(p, label))
        elif p.suffix.lower() == ".csv" and kind == "vector":
            groups.append(Group([str(p)], None if label is None else [label]))
        elif kind == "vector":  # a .npy file holds many rows under one label
            _check_suffix(p, kind)
            groups.append(Group([str(p)], [_need(label, str(p))]))
        else:  # one image or text file: read with its neighbours in one step
            _check_suffix(p, kind)
            single(str(p), _need(label, str(p)))
    return groups


def _need(label: str | None, what: str) -> str:
    if label is None:
        raise GalleryError(
            f"{what} has no identity: pass --label NAME, or give a folder with one subfolder "
            "per identity, or a CSV with a label column"
        )
    return label


def _check_suffix(p: Path, kind: str) -> None:
    allowed = _suffixes(kind)
    if p.suffix.lower() not in allowed:
        raise GalleryError(
            f"input {p} is not something a {kind} gallery enrolls ({p.suffix or 'no suffix'}); "
            f"it takes {', '.join(sorted(allowed))} files"
        )


def _files(folder: Path, kind: str) -> list[Path]:
    allowed = _suffixes(kind)
    return sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in allowed)


def _folder(folder: Path, label: str | None, kind: str) -> list[Group]:
    if label is not None:
        files = _files(folder, kind)
        if not files:
            raise GalleryError(f"folder {folder} holds no {kind} files")
        return [Group([str(f) for f in files], [label] * len(files))]
    loose = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in _suffixes(kind)]
    subs = sorted(d for d in folder.iterdir() if d.is_dir())
    if loose or not subs:
        raise GalleryError(
            f"folder {folder} is not one subfolder per identity ({len(loose)} files at its top, "
            f"{len(subs)} subfolders); pass --label NAME to enroll all its files as one identity"
        )
    groups = []
    for d in subs:
        files = _files(d, kind)
        if files:
            groups.append(Group([str(f) for f in files], [d.name] * len(files)))
    if not groups:
        raise GalleryError(f"the subfolders of {folder} hold no {kind} files")
    return groups


def _image_csv(path: Path, label: str | None) -> Group:
    header, body = read_csv_rows(path)
    if "path" not in header:
        raise GalleryError(
            f"CSV {path} has columns {header}; an image gallery reads a CSV with a 'path' column "
            "(and a 'label' column, or pass --label)"
        )
    if label is None and "label" not in header:
        raise GalleryError(f"CSV {path} has no 'label' column; add one or pass --label NAME")
    ip, il = header.index("path"), header.index("label") if "label" in header else -1
    sources, labels = [], []
    for n, row in enumerate(body, start=2):
        if len(row) <= max(ip, il):
            raise GalleryError(f"CSV {path} line {n} has {len(row)} values; expected {len(header)}")
        f = Path(row[ip])
        sources.append(str((f if f.is_absolute() else path.parent / f).resolve()))
        labels.append(check_label(row[il]) if label is None else label)
    if not sources:
        raise GalleryError(f"CSV {path} has no rows")
    return Group(sources, labels)


def load_group(
    group: Group, loader: Loader | None, kind: str
) -> tuple[np.ndarray, list[str], list[str], str]:
    """Read a group: model inputs, their source names, labels and the source kind.

    Texts come back as a list in place of an array.

    Raises:
        GalleryError: Unreadable inputs, or a model that cannot read files.
    """
    if kind == "text":
        texts = [Path(s).read_text() if Path(s).is_file() else s for s in group.sources]
        for s, t in zip(group.sources, texts, strict=True):
            if not t.strip():
                raise GalleryError(f"cannot enroll an empty text ({s})")
        assert group.labels is not None
        return np.array(texts, dtype=object), texts, group.labels, "text"
    if loader is None:
        raise GalleryError(
            "this gallery's model cannot read files (its embedder has no load()); enroll "
            "arrays or precomputed embeddings instead"
        )
    try:
        x, names = loader(group.sources)
    except ValueError as e:
        raise GalleryError(str(e)) from None
    if group.labels is None:  # a vector CSV: labels from its label column
        labels = _csv_labels(Path(group.sources[0]))
    elif len(group.labels) == 1 and len(names) > 1:
        labels = group.labels * len(names)
    else:
        labels = group.labels
    if len(labels) != len(names):
        raise GalleryError(f"{group.sources[0]}: {len(names)} items but {len(labels)} labels")
    return x, names, labels, "file"


def _csv_labels(path: Path) -> list[str]:
    header, body = read_csv_rows(path)
    if "label" not in header:
        raise GalleryError(f"CSV {path} has no 'label' column; add one or pass --label NAME")
    i = header.index("label")
    return [check_label(row[i]) for row in body]


def source_file(source: str) -> str:
    """The file of a stored source: ``x.csv:5`` -> ``x.csv``, ``a.npy[2]`` -> ``a.npy``."""
    for pattern in (_ROW, _NPY):
        m = pattern.match(source)
        if m:
            return m.group("file")
    return source
