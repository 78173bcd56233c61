"""Turning user inputs (image files, folders, vectors) into a batch a trained model accepts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from siamkit.data.images import OnMismatch, images_under, load_image
from siamkit.data.sources import read_csv_rows
from siamkit.models.spec import ModelSpec


def load_inputs(
    inputs: Sequence[str], spec: ModelSpec, on_mismatch: OnMismatch = "resize"
) -> tuple[Tensor, list[str]]:
    """Load inputs for a model of ``spec``: a batch ``(N, ...)`` and a name for each item.

    Image models take image files and folders (searched recursively for images). Vector models
    take ``.npy`` files (one vector or a matrix), ``.csv`` files with a header (numeric
    columns; a ``label`` column is ignored) or a literal comma-separated vector ``"0.1,2,3"``.
    Text models take ``.txt``/``.md`` files (the whole file is one text) or literal strings.

    Raises:
        ValueError: An input that cannot be read or does not fit the model, named.
    """
    if not inputs:
        raise ValueError("no inputs given")
    if spec.kind == "image":
        return _images(inputs, spec, on_mismatch)
    if spec.kind == "text":
        return _texts(inputs, spec)
    return _vectors(inputs, spec)


def _images(
    inputs: Sequence[str], spec: ModelSpec, on_mismatch: OnMismatch
) -> tuple[Tensor, list[str]]:
    c, h, w = spec.input_shape
    files: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            files += images_under(p)
        elif p.exists():
            files.append(p)
        else:
            raise ValueError(f"input {raw} does not exist (this model takes image files/folders)")
    x = torch.stack([load_image(f, c, (h, w), on_mismatch) for f in files])
    return x, [str(f) for f in files]


def _vectors(inputs: Sequence[str], spec: ModelSpec) -> tuple[Tensor, list[str]]:
    n_features = int(np.prod(spec.input_shape))
    rows: list[np.ndarray] = []
    names: list[str] = []
    for raw in inputs:
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
    return torch.from_numpy(np.concatenate(rows)), names


def _csv_matrix(path: Path) -> np.ndarray:
    header, body = read_csv_rows(path)
    keep = [i for i, h in enumerate(header) if h != "label"]
    try:
        return np.array([[float(r[i]) for i in keep] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as e:
        raise ValueError(f"CSV file {path} holds a non-numeric or missing value: {e}") from None


TEXT_SUFFIXES = (".txt", ".md")


def _texts(inputs: Sequence[str], spec: ModelSpec) -> tuple[Tensor, list[str]]:
    from siamkit.models.text_tokenizer import load_tokenizer

    texts: list[str] = []
    names: list[str] = []
    for raw in inputs:
        p = Path(raw)
        if p.suffix.lower() in TEXT_SUFFIXES and p.is_file():
            text = p.read_text(encoding="utf-8", errors="replace")
            names.append(str(p))
        else:
            text, name = raw, raw if len(raw) <= 60 else raw[:57] + "..."
            names.append(name)
        if not text.strip():
            raise ValueError(f"input {names[-1]!r} is empty; give a non-empty text or .txt file")
        texts.append(text)
    if spec.tokenizer is None or spec.max_length is None:
        raise ValueError("this text model's spec names no tokenizer; retrain it with siamkit")
    ids = load_tokenizer(spec.tokenizer).encode(texts, spec.max_length, pad_to_max=True)
    return ids, names  # (N, max_length): inputs from several calls concatenate
