"""Shared fixtures: a small trained run on digits, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from siamkit.training import TrainConfig, train


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


def tiny_config(out: Path, **overrides: object) -> TrainConfig:
    """Digits, 2 epochs, small encoder: about a second on 2 cores."""
    values: dict[str, object] = {
        "data": "digits",
        "train_classes": "0-4",
        "eval_classes": "5-9",
        "epochs": 2,
        "batch_size": 64,
        "widths": [8, 16],
        "embedding_dim": 16,
        "val_pairs": 500,
        "out": str(out),
        "seed": 0,
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run directory (digits 0-4, 2 epochs)."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    train(tiny_config(out), progress=False)
    return out
