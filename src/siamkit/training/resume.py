"""Run directories across runs: refusing to overwrite, replacing, and resuming a saved run
with the settings it was trained with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from torch import nn

from siamkit.models.siamese import SiameseNetwork
from siamkit.run.checkpoint import LOSS_WEIGHTS, load_state, load_trainer_state, write_json
from siamkit.run.config import TrainConfig
from siamkit.run.files import CONFIG, WEIGHTS
from siamkit.run.format import TORCH, header, upgrade_train_settings

RESUMABLE_CHANGES = {"epochs", "log"}  # settings a resumed run may change


def check_resumable(saved: dict[str, Any], config: TrainConfig) -> None:
    defaults = {k: f.default for k, f in TrainConfig.model_fields.items()}
    was = upgrade_train_settings(saved, defaults)  # newer settings as the run trained with them
    differs = {
        k: (was[k], v)
        for k, v in config.model_dump().items()
        if k not in RESUMABLE_CHANGES and was[k] != v
    }
    if differs:
        detail = ", ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in differs.items())
        raise ValueError(
            f"cannot resume with different settings ({detail}); only --epochs may change "
            "(and --log)"
        )


def prepare_out(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write over a run unless told; clear a run being overwritten."""
    if (run_dir / "last").exists() and not resume and not overwrite:
        raise ValueError(
            f"{run_dir} already holds a run; pass --resume to continue it, --overwrite to "
            "replace it, or choose another --out"
        )
    if overwrite and not resume and (run_dir / "config.json").is_file():
        shutil.rmtree(run_dir)  # a previous siamkit run: replace it whole, no stale files


def saved_config(run_dir: Path) -> dict[str, Any] | None:
    """The training settings of the run being resumed, from its small ``config.json`` (the
    checkpoint's trainer state, with the optimiser, is read once, later). None if unreadable;
    the resume itself then says what is missing."""
    try:
        return dict(json.loads((run_dir / "config.json").read_text())["train"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_last(
    run_dir: Path, config: TrainConfig, model: SiameseNetwork, loss_fn: nn.Module
) -> dict[str, Any]:
    """Load ``OUT/last``'s weights into ``model`` and ``loss_fn``; its trainer state."""
    state = load_trainer_state(run_dir)
    check_resumable(state["config"], config)
    load_state(model, run_dir / "last" / WEIGHTS)
    if (run_dir / "last" / LOSS_WEIGHTS).is_file():
        load_state(loss_fn, run_dir / "last" / LOSS_WEIGHTS)
    return state


def write_run_config(run_dir: Path, run_config: dict[str, Any]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / CONFIG, {**header(TORCH), **run_config})
