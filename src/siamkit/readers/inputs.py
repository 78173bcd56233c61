"""Read a model's inputs from paths with numpy alone (no torch): the one reader of sources.

Every model kind reads what ``siamkit embed`` takes through these functions: image files and
folders (searched recursively), ``.npy``/``.csv`` vectors or literal comma-separated vectors,
and ``.txt``/``.md`` files or literal strings for text models. The torch runs
(:mod:`siamkit.data.inputs`) and the ONNX runtime (:class:`~siamkit.runtime.OnnxEncoder`) both
call them, so both accept and refuse the same inputs with the same messages.

Example:
    >>> np.save("a.npy", np.ones((2, 3), np.float32))
    >>> x, names = read_vectors(["a.npy", "0.1,0.2,0.3"], n_features=3)  # (N, 3)
    >>> x.shape, names
    ((3, 3), ['a.npy[0]', 'a.npy[1]', '0.1,0.2,0.3'])
    >>> read_vectors(["1,2"], n_features=3)
    Traceback (most recent call last):
        ...
    ValueError: input 1,2 has 2 features per item; the model takes 3
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
TEXT_SUFFIXES = (".txt", ".md")
NAME_CHARS = 60  # a literal text is named by its first characters


def image_files(sources: Sequence[str | Path]) -> list[Path]:
    """Image files named in ``sources``, each folder replaced by the images under it (sorted).

    Raises:
        ValueError: No sources, a missing path, or a folder without images; named.
    """
    if not sources:
        raise ValueError("no inputs given")
    files: list[Path] = []
    for raw in sources:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(
                    f"folder {p} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
                )
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise ValueError(f"input {raw} does not exist (this model takes image files/folders)")
    return files


def read_vectors(
    sources: Sequence[str], n_features: int
) -> tuple[npt.NDArray[np.float32], list[str]]:
    """Vectors ``(N, F)`` from ``.npy`` files, headed ``.csv`` files (a ``label`` column is
    skipped) or literal ``"0.1,2,3"`` strings, and one name per row.

    Raises:
        ValueError: An unreadable source, a non-number, NaN/inf, or the wrong width; named.
    """
    if not sources:
        raise ValueError("no inputs given")
    rows: list[npt.NDArray[np.float32]] = []
    names: list[str] = []
    for raw in sources:
        p = Path(raw)
        if p.suffix == ".npy" and p.is_file():
            try:
                arr = np.load(p, allow_pickle=False).astype(np.float32)
            except (ValueError, OSError) as e:
                raise ValueError(f"input {p}: not a readable numeric .npy file ({e})") from None
            if arr.ndim == 0 or arr.size == 0:
                raise ValueError(f"input {p}: holds no vector (shape {arr.shape})")
            arr = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(len(arr), -1)
            names += [f"{p}[{i}]" for i in range(len(arr))]
        elif p.suffix == ".csv" and p.is_file():
            arr = _csv_matrix(p)
            names += [f"{p}:{i + 2}" for i in range(len(arr))]
        elif p.exists():
            raise ValueError(f"input {p}: this model takes .npy or .csv vectors, not {p.suffix}")
        else:
            try:
                arr = np.array([[float(v) for v in raw.split(",")]], dtype=np.float32)
            except ValueError:
                raise ValueError(
                    f"input {raw!r} is neither a file nor a comma-separated vector of numbers"
                ) from None
            names.append(raw)
        if arr.shape[1] != n_features:
            raise ValueError(
                f"input {raw} has {arr.shape[1]} features per item; the model takes {n_features}"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"input {raw} contains NaN or infinite values")
        rows.append(arr)
    return np.concatenate(rows), names


def read_texts(sources: Sequence[str]) -> tuple[list[str], list[str]]:
    """Texts from ``.txt``/``.md`` files (a whole file is one text) or literal strings, and a
    name for each.

    Raises:
        ValueError: No sources, or an empty text; named.
    """
    if not sources:
        raise ValueError("no inputs given")
    texts: list[str] = []
    names: list[str] = []
    for raw in sources:
        p = Path(raw)
        if p.suffix.lower() in TEXT_SUFFIXES and p.is_file():
            text = p.read_text(encoding="utf-8", errors="replace")
            names.append(str(p))
        else:
            text = raw
            names.append(raw if len(raw) <= NAME_CHARS else raw[: NAME_CHARS - 3] + "...")
        if not text.strip():
            raise ValueError(f"input {names[-1]!r} is empty; give a non-empty text or .txt file")
        texts.append(text)
    return texts, names


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV file's header and data rows; a BOM is tolerated and blank lines are skipped.

    Raises:
        ValueError: The file has no header row or no data row.
    """
    with path.open(newline="", encoding="utf-8-sig") as f:  # utf-8-sig: tolerate a BOM
        rows = [row for row in csv.reader(f) if row]  # blank lines carry no item
    if len(rows) < 2:
        raise ValueError(f"CSV file {path} needs a header row and at least one data row")
    return rows[0], rows[1:]


def _csv_matrix(path: Path) -> npt.NDArray[np.float32]:
    header, body = read_csv_rows(path)
    keep = [i for i, h in enumerate(header) if h != "label"]
    try:
        return np.array([[float(r[i]) for i in keep] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as e:
        raise ValueError(f"CSV file {path} holds a non-numeric or missing value: {e}") from None
