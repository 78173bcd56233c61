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

import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import load_file, save_file

from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.config import TrainConfig
from siamkit.run.files import (
    CONFIG,
    DAMAGED,
    LOSS_WEIGHTS,
    METRICS,
    STATE,
    WEIGHTS,
    read_json_object,
    write_json,
)
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
    write_json(tmp / METRICS, metrics)
    if trainer_state is not None:
        torch.save(trainer_state, tmp / STATE)
    # safetensors writes through a private temporary file (mode 0600): give the weights the
    # mode every other file of the run has under the user's umask
    mode = (tmp / CONFIG).stat().st_mode & 0o777
    for name in (WEIGHTS, LOSS_WEIGHTS):
        if (tmp / name).is_file():
            os.chmod(tmp / name, mode)
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
        ValueError: Not a run directory, or a checkpoint file missing or damaged; the message
            names the file and what to do (restore it, or retrain with ``--overwrite``).
    """
    run_dir = Path(run_dir)
    folder = run_dir / which
    if not (folder / WEIGHTS).is_file() and not (folder / CONFIG).is_file():
        raise ValueError(
            f"{run_dir} is not a finished siamkit run: {folder / WEIGHTS} is missing; train one "
            "with `siamkit train --out DIR`"
        )
    for name in (CONFIG, WEIGHTS):
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name} is missing; {DAMAGED}")
    saved = read_json_object(folder / CONFIG)
    try:
        config = TrainConfig(**saved["train"])
        spec = ModelSpec(**saved["model"])
    except (KeyError, TypeError, ValueError) as e:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"{folder / CONFIG} holds invalid settings ({e}); {DAMAGED}") from None
    model = build_model(spec)
    load_state(model, folder / WEIGHTS)
    if spec.kind == "image" and config.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.eval()
    metrics = read_json_object(folder / METRICS)
    run_metrics = run_dir / METRICS
    if run_metrics.is_file():
        metrics = {**read_json_object(run_metrics), **metrics}
    return LoadedRun(model, config, spec, metrics, run_dir)


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file.

    Raises:
        ValueError: The file is missing, cut short, empty or not safetensors; named.
    """
    from safetensors import SafetensorError

    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise ValueError(f"{path} is missing; {DAMAGED}") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable safetensors file ({e}); {DAMAGED}") from None


def load_state(model: torch.nn.Module, path: Path) -> None:
    """Load the weights in ``path`` into ``model``.

    Raises:
        ValueError: The file is unreadable or its tensors do not fit ``model``; named.
    """
    weights = load_weights(path)
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        raise ValueError(
            f"{path} does not fit the network its config.json describes ({e}); {DAMAGED}"
        ) from None


def load_trainer_state(run_dir: Path) -> dict[str, Any]:
    """The optimizer/scheduler/epoch state saved with the last checkpoint (no pickle code)."""
    path = run_dir / "last" / STATE
    if not path.is_file():
        raise ValueError(f"cannot resume: {path} not found (no completed epoch in {run_dir})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, EOFError or UnpicklingError here
        raise ValueError(
            f"cannot resume: {path} is damaged ({type(e).__name__}: {e}); restore it from a copy, "
            f"or start again with `siamkit train --out {run_dir} --overwrite`"
        ) from None
    if not isinstance(state, dict) or "config" not in state:
        raise ValueError(
            f"cannot resume: {path} holds no trainer state; restore it from a copy, or start "
            f"again with `siamkit train --out {run_dir} --overwrite`"
        )
    return state
