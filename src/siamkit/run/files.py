"""The names of a run directory's files, and the one way they are written: atomically.

Layout of a run directory (``siamkit train --out RUN``, ``siamkit init RUN``)::

    RUN/config.json        format, kind, the resolved TrainConfig ("train") and ModelSpec ("model")
    RUN/metrics.json       per-epoch history, best epoch, validation threshold, held-out figures
    RUN/calibration.json   the decision rule (threshold, P(same) map) when calibrated
    RUN/README.md          the model card (what it was trained on, figures, intended use)
    RUN/best/, RUN/last/   checkpoints: model.safetensors, config.json, metrics.json
                           (+ loss.safetensors, + trainer_state.pt in last/ for --resume)

Every JSON record is written to a temporary file beside its final place and renamed over it,
so a reader never sees half a file and an interrupted write leaves the old one whole.

Example:
    >>> run = Path("runs/a")
    >>> run.mkdir(parents=True)
    >>> write_json(run / METRICS, {"best_epoch": 3})
    >>> read_json(run / METRICS)["best_epoch"]
    3
    >>> sorted(p.name for p in run.iterdir())  # no temporary file left behind
    ['metrics.json']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CONFIG = "config.json"  # run root and each checkpoint
METRICS = "metrics.json"
CALIBRATION = "calibration.json"
MODEL_CARD = "README.md"
WEIGHTS = "model.safetensors"
LOSS_WEIGHTS = "loss.safetensors"
STATE = "trainer_state.pt"
CHECKPOINTS = ("best", "last")
# what to do about a damaged run file, appended to the error that names it
DAMAGED = (
    "the run is damaged: restore the file from a copy, or retrain the run "
    "(`siamkit train --out RUN --overwrite`)"
)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def check_out_file(path: Path, option: str = "--out") -> None:
    """Refuse, before any work is done, a file to write that cannot be written as one.

    Args:
        path: Where a command will write its file.
        option: The option that named it, for the message.

    Raises:
        ValueError: ``path`` is an existing folder, or its folder does not exist (nothing is
            created silently); the message says what to give instead.
    """
    if path.is_dir():
        raise ValueError(
            f"{option} {path} is a folder; give the file to write, e.g. {path / 'FILE'}"
        )
    if not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise ValueError(
            f"{option} {path}: the folder {path.parent} {what}; create it first "
            f"(mkdir -p {path.parent}) or choose another {option}"
        )


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (temporary file + rename)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path, fix: str = "") -> Any:
    """The JSON value stored in ``path``.

    Args:
        path: The file.
        fix: What the user can do about a missing or unreadable file, appended to the error.

    Raises:
        ValueError: The file is missing or is not JSON; the message names the file.
    """
    hint = f"; {fix}" if fix else ""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"{path} not found{hint}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not valid JSON (not UTF-8 text){hint}") from None
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror or e}{hint}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}){hint}") from None


def read_json_object(path: Path, fix: str = DAMAGED) -> dict[str, Any]:
    """The JSON object stored in ``path`` (see :func:`read_json`).

    Raises:
        ValueError: The file is missing, not JSON, or holds another JSON value than an object;
            the message names the file and ends with ``fix``.
    """
    value = read_json(path, fix)
    if not isinstance(value, dict):
        hint = f"; {fix}" if fix else ""
        raise ValueError(f"{path} holds a JSON {type(value).__name__}, not an object{hint}")
    return value
