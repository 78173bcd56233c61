"""Run directories and checkpoints: safetensors weights + JSON config + metrics, never pickle.

Layout of a run directory::

    RUN/config.json           resolved TrainConfig and ModelSpec
    RUN/metrics.json          per-epoch history, best epoch, calibrated threshold
    RUN/best/                 model.safetensors, config.json, metrics.json
    RUN/last/                 the same + trainer_state.pt (optimizer, scheduler, epoch) for --resume

A checkpoint directory is written beside its final place and swapped in with renames, so an
interrupted write never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import load_file, save_file

from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.config import TrainConfig
from siamkit.run.files import CONFIG, LOSS_WEIGHTS, STATE, WEIGHTS, write_json
from siamkit.run.format import TORCH, header


def save_checkpoint(
    folder: Path,
    model: SiameseNetwork,
    config: TrainConfig,
    spec: ModelSpec,
    metrics: dict[str, Any],
    trainer_state: dict[str, Any] | None = None,
    loss: torch.nn.Module | None = None,
) -> None:
    """Write a checkpoint directory atomically (replacing any previous one); a loss with
    parameters (ArcFace centres, the Koch head) is saved beside the model as loss.safetensors."""
    tmp = folder.with_name(folder.name + ".tmp")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / WEIGHTS))
    if loss is not None and any(True for _ in loss.parameters()):
        loss_weights = {k: v.detach().cpu().contiguous() for k, v in loss.state_dict().items()}
        save_file(loss_weights, str(tmp / LOSS_WEIGHTS))
    write_json(
        tmp / CONFIG,
        {**header(TORCH), "train": config.model_dump(), "model": spec.model_dump()},
    )
    write_json(tmp / "metrics.json", metrics)
    if trainer_state is not None:
        torch.save(trainer_state, tmp / STATE)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


class LoadedRun(NamedTuple):
    """A trained network with what was saved beside it."""

    model: SiameseNetwork
    config: TrainConfig
    spec: ModelSpec
    metrics: dict[str, Any]
    run_dir: Path


def load_run(run_dir: str | Path, which: str = "best") -> LoadedRun:
    """Load the ``best`` (default) or ``last`` checkpoint of a run directory.

    Raises:
        ValueError: Not a run directory, or the checkpoint is incomplete; says what is missing.
    """
    run_dir = Path(run_dir)
    folder = run_dir / which
    if not (folder / WEIGHTS).is_file() or not (folder / "config.json").is_file():
        raise ValueError(
            f"{run_dir} is not a finished siamkit run: {folder / WEIGHTS} is missing; train one "
            "with `siamkit train --out DIR`"
        )
    saved = json.loads((folder / "config.json").read_text())
    config = TrainConfig(**saved["train"])
    spec = ModelSpec(**saved["model"])
    model = build_model(spec)
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    if spec.kind == "image" and config.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.eval()
    metrics = json.loads((folder / "metrics.json").read_text())
    run_metrics = run_dir / "metrics.json"
    if run_metrics.is_file():
        metrics = {**json.loads(run_metrics.read_text()), **metrics}
    return LoadedRun(model, config, spec, metrics, run_dir)


def load_trainer_state(run_dir: Path) -> dict[str, Any]:
    """The optimizer/scheduler/epoch state saved with the last checkpoint (no pickle code)."""
    path = run_dir / "last" / STATE
    if not path.is_file():
        raise ValueError(f"cannot resume: {path} not found (no completed epoch in {run_dir})")
    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    return state
