"""Class lists and splits: train on some classes, evaluate on classes never seen.

Model selection uses a validation split carved from the *training* classes only: one or more
training classes held out whole (open-set, like the evaluation) plus a fraction of the items of
the remaining training classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from siamkit.data.labelled import LabelledData


def parse_classes(spec: str | Sequence[int | str], class_names: Sequence[str]) -> list[int]:
    """Class indices from a spec such as ``"0-4"``, ``"0,2,7"``, ``"cat,dog"``, ``"all"`` or
    ``"none"`` (no class: a run with no evaluation classes).

    Tokens are matched to class names first, then read as integer indices or ranges ``a-b``.
    A class that does not exist is a ValueError listing those that do.

    Example:
        >>> parse_classes("0-2,5", [str(i) for i in range(10)])
        [0, 1, 2, 5]
    """
    names = list(class_names)
    if isinstance(spec, str):
        if spec.strip() == "all":
            return list(range(len(names)))
        if spec.strip() == "none" and "none" not in names:
            return []
        tokens: list[int | str] = [t.strip() for t in spec.split(",") if t.strip()]
    else:
        tokens = list(spec)
    if not tokens:
        raise ValueError(f"empty class list {spec!r}; give e.g. 0-4 or a comma-separated list")
    out: list[int] = []
    for tok in tokens:
        out.extend(_parse_token(tok, names))
    seen: set[int] = set()
    return [c for c in out if not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]


def _parse_token(tok: int | str, names: list[str]) -> list[int]:
    available = ", ".join(names) if len(names) <= 30 else f"{names[0]} ... {names[-1]}"
    absent = f"class '{tok}' is not in the data; available classes: {available}"
    if isinstance(tok, int):
        if not 0 <= tok < len(names):
            raise ValueError(absent)
        return [tok]
    if tok in names:
        return [names.index(tok)]
    if "-" in tok:
        lo_s, _, hi_s = tok.partition("-")
        lo, hi = _parse_token(lo_s.strip(), names), _parse_token(hi_s.strip(), names)
        if lo[0] > hi[0]:
            raise ValueError(f"empty class range {tok!r}")
        return list(range(lo[0], hi[0] + 1))
    if tok.isdigit() and int(tok) < len(names):
        return [int(tok)]
    raise ValueError(absent)


class TrainValSplit(NamedTuple):
    """Indices into a data set: what to train on and what to select models with."""

    train: torch.Tensor
    val: torch.Tensor
    val_classes: list[int]


def train_val_split(
    data: LabelledData,
    train_classes: Sequence[int],
    val_classes: Sequence[int] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> TrainValSplit:
    """Carve a validation split out of the training classes; never touches other classes.

    Args:
        data: The full data set.
        train_classes: Classes available for training.
        val_classes: Training classes held out whole for validation; by default the last one
            when there are at least 3 training classes, else none.
        val_fraction: Fraction of the items of each remaining training class also held out.
        seed: Makes the split reproducible.
    """
    train_classes = list(train_classes)
    if val_classes is None:
        val_classes = train_classes[-1:] if len(train_classes) >= 3 else []
    bad = [c for c in val_classes if c not in train_classes]
    if bad:
        raise ValueError(f"validation classes {bad} must be among the training classes")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    g = torch.Generator().manual_seed(seed)
    train_idx: list[torch.Tensor] = []
    val_idx: list[torch.Tensor] = []
    for c in train_classes:
        idx = (data.y == c).nonzero().flatten()
        if c in val_classes:
            val_idx.append(idx)
            continue
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_val = int(round(len(idx) * val_fraction))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    if not train_idx:
        raise ValueError("every training class is held out for validation; nothing to train on")
    return TrainValSplit(
        torch.cat(train_idx).sort().values,
        torch.cat(val_idx).sort().values if val_idx else torch.zeros(0, dtype=torch.long),
        list(val_classes),
    )
