"""Turning user inputs (image files, folders, vectors) into a batch a trained model accepts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from siamkit.data.images import OnMismatch, images_under, load_image
from siamkit.models.spec import ModelSpec
from siamkit.models.text_tokenizer import load_tokenizer
from siamkit.progress import task
from siamkit.readers import read_texts, read_vectors


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
    images = []
    with task("reading images", total=len(files)) as advance:
        for f in files:
            images.append(load_image(f, c, (h, w), on_mismatch))
            advance(1)
    x = torch.stack(images)
    return x, [str(f) for f in files]


def _vectors(inputs: Sequence[str], spec: ModelSpec) -> tuple[Tensor, list[str]]:
    arr, names = read_vectors(inputs, int(np.prod(spec.input_shape)))
    return torch.from_numpy(arr), names


def _texts(inputs: Sequence[str], spec: ModelSpec) -> tuple[Tensor, list[str]]:

    texts, names = read_texts(inputs)
    if spec.tokenizer is None or spec.max_length is None:
        raise ValueError("this text model's spec names no tokenizer; retrain it with siamkit")
    ids = load_tokenizer(spec.tokenizer).encode(texts, spec.max_length, pad_to_max=True)
    return ids, names  # (N, max_length): inputs from several calls concatenate
