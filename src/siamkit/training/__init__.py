"""Training: config, trainer, checkpoints."""

from __future__ import annotations

from siamkit.run.checkpoint import LoadedRun, load_run, save_checkpoint
from siamkit.run.config import TrainConfig
from siamkit.training.setup import prepare_data
from siamkit.training.trainer import NonFiniteLossError, TrainResult, train

__all__ = [
    "LoadedRun",
    "NonFiniteLossError",
    "TrainConfig",
    "TrainResult",
    "load_run",
    "prepare_data",
    "save_checkpoint",
    "train",
]
