"""The versioned header of a model folder's ``config.json``: which format, which kind.

Every folder siamkit writes for a model records ``{"format": N, "kind": K, ...}`` in its
``config.json``, and every reader picks its loader from ``kind`` (as transformers' Auto classes
read ``model_type``); nothing sniffs for marker files. Folders written before the header existed
stay readable: a ``config.json`` without ``format`` is a format-1 ``torch`` run, and a folder
holding only ``face_encoder.json`` is a format-1 ``face`` folder.

Example:
    >>> model_kind("runs/digits"), model_kind("model.onnx")
    ('torch', 'onnx')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siamkit.run.files import CONFIG, DAMAGED, read_json

FORMAT = 2  # the run format this siamkit writes
FORMATS = (1, 2)  # the formats it reads
TORCH = "torch"  # `siamkit train` / `siamkit init` runs (image, vector and text encoders)
ONNX = "onnx"  # `siamkit export` files
_LEGACY_FILES = {"face_encoder.json": "face"}  # format-1 folders that predate the header

# Settings newer than some saved runs, where the value such runs trained with is not the
# field's default: rotation's default (None) means "auto", but runs from before it trained with
# none; runs from before the refit trained once.
BEFORE_SETTING: dict[str, Any] = {"rotation": 0.0, "refit": False}


def header(kind: str) -> dict[str, Any]:
    """The first keys of a ``config.json`` this siamkit writes for a model of ``kind``."""
    return {"format": FORMAT, "kind": kind}


def model_kind(path: str | Path) -> str:
    """The kind of model stored at ``path`` (reads one small JSON file, imports nothing).

    Raises:
        ValueError: Nothing siamkit wrote is at ``path``, or its header is of a newer format.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".onnx":
        return ONNX
    if path.is_dir():
        if (path / CONFIG).is_file():
            return folder_header(path)[1]
        for name, kind in _LEGACY_FILES.items():
            if (path / name).is_file():
                return kind
    what = "does not exist" if not path.exists() else "holds no siamkit config.json"
    raise ValueError(
        f"{path} is not a finished siamkit run or model: it {what}; give a run folder "
        "(`siamkit train --out RUN`, `siamkit init RUN`), a `siamkit faces init` folder or an "
        "exported .onnx file"
    )


def folder_header(path: Path) -> tuple[int, str]:
    """``(format, kind)`` of the model folder ``path`` from its ``config.json``.

    Raises:
        ValueError: Unreadable config, or a format this siamkit does not read.
    """
    record = read_json(path / CONFIG, DAMAGED)
    if not isinstance(record, dict):
        raise ValueError(f"{path / CONFIG} is not a JSON object; {DAMAGED}")
    fmt = record.get("format", 1)
    if fmt not in FORMATS:
        raise ValueError(
            f"{path / CONFIG} is run format {fmt!r}; this siamkit reads formats "
            f"{', '.join(map(str, FORMATS))}: upgrade siamkit"
        )
    return int(fmt), str(record.get("kind", TORCH))


def upgrade_train_settings(saved: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A saved run's training settings with every newer setting filled in as that run trained.

    Args:
        saved: The ``train`` record of a run's ``config.json``.
        defaults: Each current setting's default.
    """
    return {k: saved.get(k, BEFORE_SETTING.get(k, v)) for k, v in defaults.items()} | saved
