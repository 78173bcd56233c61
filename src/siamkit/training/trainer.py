"""Training a twin network: data split, model, optimiser, epochs, validation, checkpoints.

Model selection (the best checkpoint and the calibrated threshold) looks only at the validation
split carved from the training classes; the evaluation classes are left for ``evaluate``.

Example:
    >>> result = train(TrainConfig(data="digits", epochs=2, out="runs/example"))
    >>> result.best["roc_auc"] > 0.5
    True
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, NamedTuple, cast

import torch
from rich.console import Console
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from siamkit.data.labelled import LabelledData
from siamkit.dist import DistInfo, all_sum, barrier, on_main
from siamkit.losses.rotation import WithRotation
from siamkit.miners import MinerStats
from siamkit.models.pretrained_image import backbone_parameters
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import build_model
from siamkit.run.checkpoint import (
    save_checkpoint,
    write_json,
)
from siamkit.run.config import TrainConfig
from siamkit.run.model_card import write_model_card
from siamkit.training.batches import epoch_batches
from siamkit.training.distributed import process_group, sync_module, training_device, wrap_ddp
from siamkit.training.objective import Objective, build_loss, mean_miner_stats
from siamkit.training.progress import epoch_progress, log_epoch
from siamkit.training.refit import refits, selection_config, train_with_refit
from siamkit.training.resume import load_last, prepare_out, saved_config, write_run_config
from siamkit.training.setup import (
    build_optimizer,
    build_scheduler,
    check_rotation,
    fit_standardize,
    model_spec,
    prepare_data,
    resolve_device,
    resolve_rotation,
    resolve_uniformity,
    set_dropout,
    set_trainable,
)
from siamkit.training.step import forward_batch
from siamkit.training.tensorboard import TensorBoardLog
from siamkit.training.validation import validate

SELECT_METRIC = "roc_auc"  # validation metric that picks the best checkpoint (higher is better)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped and the last good checkpoint is kept."""


class TrainResult(NamedTuple):
    """What a finished training run produced."""

    run_dir: Path
    best_epoch: int  # 1-based epoch of the best checkpoint
    best: dict[str, Any]  # validation metrics of the best checkpoint
    history: list[dict[str, Any]]  # one entry per epoch
    threshold: float | None  # calibrated distance threshold (None without validation data)


def train(
    config: TrainConfig,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    console: Console | None = None,
    loss: nn.Module | None = None,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train a twin network as ``config`` says and write its run directory.

    With validation data and ``config.refit`` (the default), this trains twice
    (:mod:`siamkit.training.refit`): a selection run in ``OUT/selection`` chooses the epoch
    count and the operating point on held-out training classes, then the final model is trained
    on every training class; the result is the final run's, with the selection's validation
    figures in ``best``.

    Launched by ``torchrun`` (``WORLD_SIZE`` > 1), every process runs this function: they
    train one DDP model on shares of each batch (:mod:`siamkit.training.distributed`) and
    only rank 0 prints, shows progress, writes the run directory and calls ``on_epoch_end``;
    the other processes' results hold their history without validation.

    Args:
        config: The run's settings.
        resume: Continue from ``OUT/last`` (same settings; ``epochs`` may grow).
        overwrite: Replace an existing run in ``OUT``; otherwise that is an error.
        progress: Show a progress bar.
        console: Where to print (rich); a quiet one by default when ``progress`` is False.
        loss: A loss object to use instead of ``config.loss`` (takes embeddings and labels).
        on_epoch_end: Called with each epoch's record.

    Raises:
        NonFiniteLossError: The loss became NaN/inf; the last good checkpoint is kept.
        ValueError: Bad settings or data, with a message saying how to fix them.
    """
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    if resume and refits(config):
        saved = saved_config(Path(config.out))
        if saved is not None and "refit" not in saved:  # a run from before the refit
            config = config.model_copy(update={"refit": False})
    with process_group(device) as info:
        if not refits(config) or not _has_validation(selection_config(config)):
            result = _train(
                config, info, device, resume, overwrite, progress, console, loss, on_epoch_end
            )
        else:
            shown = (console if info.is_main else None) or Console(
                quiet=not (progress and info.is_main), stderr=True
            )

            def phase(cfg: TrainConfig, resume_phase: bool) -> TrainResult:
                fresh = copy.deepcopy(loss)  # each phase starts from the loss as given
                return _train(
                    cfg, info, device, resume_phase, False, progress, shown, fresh, on_epoch_end
                )

            result = cast(
                TrainResult,
                train_with_refit(config, phase, resume, overwrite, shown, info.is_main, device),
            )
        if info.is_main:
            write_model_card(config.out)  # what it trained on, the threshold and its origin
        return result


def _has_validation(config: TrainConfig) -> bool:
    """Whether ``config``'s split holds validation data (quietly: the run warns later)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_data(config).val is not None


def _train(
    config: TrainConfig,
    info: DistInfo,
    device: torch.device,
    resume: bool,
    overwrite: bool,
    progress: bool,
    console: Console | None,
    loss: nn.Module | None,
    on_epoch_end: Callable[[dict[str, Any]], None] | None,
) -> TrainResult:
    main, world = info.is_main, info.world_size
    progress = progress and main
    console = (console if main else None) or Console(quiet=not progress, stderr=True)
    run_dir = Path(config.out)
    on_main(lambda: prepare_out(run_dir, resume, overwrite))
    curves = TensorBoardLog(run_dir) if main and config.log == "tensorboard" else None
    device = training_device(device, info)
    torch.manual_seed(config.seed)
    with warnings.catch_warnings():
        if not main:  # data warnings once, from rank 0
            warnings.simplefilter("ignore")
        prepared = prepare_data(config)
    saved = saved_config(run_dir) if resume else None
    config = resolve_rotation(config, prepared.train, saved)  # None: the recipe's
    config = resolve_uniformity(config, prepared.train, saved)
    spec = model_spec(config, prepared.train)
    model = build_model(spec, pretrained=not resume)  # a resumed run loads its own weights
    if config.dropout is not None:
        set_dropout(model, config.dropout)
    if spec.image_size is not None:  # a pretrained image encoder normalises as its weights do
        if config.input_mean is not None or config.input_std is not None:
            raise ValueError(
                f"--encoder {config.encoder} normalises inputs as its pretrained weights "
                "expect; drop input_mean/input_std"
            )
    elif spec.kind != "text":  # text encoders read token ids: nothing to standardise
        fit_standardize(model, prepared.train, config.input_mean, config.input_std)
    set_trainable(model, config)
    model.to(device)
    # NHWC is markedly faster for convolutions on CPU (and tensor cores); same numbers, layout only
    channels_last = config.channels_last and prepared.train.kind == "image"
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    n_classes = int(len(torch.unique(prepared.train.y)))
    loss_fn = (loss or build_loss(config, model, n_classes)).to(device)
    if isinstance(loss_fn, WithRotation):  # before anything is written
        check_rotation(prepared.train)
    # a learned distance is shared by the network and the loss: each parameter once
    params = list({id(p): p for p in [*model.parameters(), *loss_fn.parameters()]}.values())
    if not any(p.requires_grad for p in params):
        raise ValueError(
            f"nothing to train: the {config.encoder} backbone is frozen (--trainable-blocks 0), "
            f"it has no head (give --embedding-dim) and the loss {config.loss} has no "
            "parameters; give --embedding-dim D or --trainable-blocks N > 0, or make the run "
            "without training: `siamkit init RUN --encoder ...`"
        )
    opt = build_optimizer(
        config, params, fused=spec.kind == "text", backbone=backbone_parameters(model)
    )
    # class labels as 0..C-1 (losses with class centres need it; equality is all others use)
    train_data = LabelledData(
        prepared.train.x,
        torch.unique(prepared.train.y, return_inverse=True)[1],
        prepared.class_names,
        prepared.train.kind,
        roles=prepared.train.roles,
    )
    sched = build_scheduler(config, opt)

    # the weights' moving average (and BatchNorm's): what validation and checkpoints see
    averaged = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema), use_buffers=True)
        if config.ema is not None
        else None
    )
    kept = model if averaged is None else cast(SiameseNetwork, averaged.module)  # validated, saved
    start_epoch, history, best_value, best_epoch = 0, [], -math.inf, 0
    best_record: dict[str, Any] = {}
    if resume:  # rank 0 reads the checkpoint; DDP below copies its weights to the others
        state = on_main(lambda: load_last(run_dir, config, model, loss_fn))
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler"):
            sched.load_state_dict(state["scheduler"])
        start_epoch, history = int(state["epoch"]), list(state["history"])
        best_value, best_epoch = float(state["best_value"]), int(state["best_epoch"])
        best_record = dict(state["best_record"])
        if averaged is not None:  # the checkpoint holds the average; the state the raw weights
            averaged.module.load_state_dict(model.state_dict())
            model.load_state_dict(state["raw_model"])
            averaged.n_averaged.fill_(int(state["ema_updates"]))
            sync_module(averaged.module)  # only rank 0 read the checkpoint's average
        console.print(f"resuming {run_dir} after epoch {start_epoch}")
    run_config = {"train": config.model_dump(), "model": spec.model_dump()}
    on_main(lambda: write_run_config(run_dir, run_config))
    # pretrained transformers carry a pooler that mean-pooled embeddings never use
    ddp = wrap_ddp(model, loss_fn, device, find_unused=spec.kind == "text") if world > 1 else None
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda" and config.amp
        else nullcontext()
    )
    objective = Objective.build(config, model, ddp, loss_fn, device, channels_last, amp)
    console.print(
        f"training on {len(prepared.train)} items of {len(torch.unique(prepared.train.y))} "
        f"classes; validating on {0 if prepared.val is None else len(prepared.val)} items "
        f"(from training classes only); device {device}"
        + (f"; {world} processes, " if world > 1 else "")
        + (f"negatives {'gathered' if objective.gathered else 'per process'}" if world > 1 else "")
    )

    for epoch in range(start_epoch, config.epochs):
        torch.manual_seed(config.seed * 1_000_003 + epoch)
        started = time.perf_counter()  # images/s counts batch building too
        batches = epoch_batches(config, train_data, epoch, info.rank, world)
        # augmentation draws (each process its own stream; rank 0's is the single-process one)
        g = torch.Generator().manual_seed(config.seed * 7_919 + epoch + 1_000_003 * info.rank)
        mined: list[MinerStats] = []
        model.train()
        opt.zero_grad(set_to_none=True)
        total, count, seen = 0.0, 0, 0
        bar = epoch_progress(progress, console)
        with bar:
            task = bar.add_task(f"epoch {epoch + 1}/{config.epochs}", total=len(batches), info="")
            for b, (x, labels, y, roles) in enumerate(batches):
                step = (b + 1) % config.grad_accum == 0 or b + 1 == len(batches)
                # gradient accumulation under DDP: synchronise only on the stepping batch
                sync = ddp.no_sync() if ddp is not None and not step else nullcontext()
                with sync:
                    out = forward_batch(objective, x, labels, y, roles, g)
                    value, stats = out.value, out.stats
                    if stats is not None:
                        mined.append(stats)
                    if not torch.isfinite(value):
                        raise NonFiniteLossError(
                            f"loss became {value.item()} at epoch {epoch + 1}, batch {b} "
                            f"(0-based); training stopped. The last good checkpoint is kept in "
                            f"{run_dir / 'last'} (if an epoch had completed). Try a lower --lr or "
                            "check the inputs for NaN."
                        )
                    scaled = out.scaled  # gradient accumulation: grad_accum batches add up
                    (scaled / config.grad_accum if config.grad_accum > 1 else scaled).backward()
                if step:
                    if config.max_grad_norm is not None:  # after DDP's all-reduce: same on all
                        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    if averaged is not None:
                        averaged.update_parameters(model)
                total += float(value.detach())
                count += 1
                seen += out.inputs
                rate = seen * world / max(time.perf_counter() - started, 1e-9)
                info_line = f"loss {total / count:.4f}  {rate:,.0f} img/s"
                if stats is not None:
                    info_line += f"  mined {stats.num_mined}  active {stats.fraction_active:.0%}"
                bar.update(task, advance=1, info=info_line)
        train_seconds = time.perf_counter() - started
        total, n_batches, n_seen = all_sum([total, count, seen], device)  # over processes
        if sched is not None:
            sched.step()
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": total / max(n_batches, 1),
            "images_per_second": n_seen / max(train_seconds, 1e-9),
            "lr": opt.param_groups[0]["lr"],
        }
        if world > 1:
            record["processes"] = world
        if mined:
            record["miner"] = mean_miner_stats(mined)
        val = validate(kept, prepared.val, config, device, world)
        history.append(record)
        if not main:
            continue
        if val is not None:
            record["val"] = val.as_dict()
            value_now = val.roc_auc
        else:
            value_now = float(epoch)  # no validation data: the last epoch is the best
        improved = value_now > best_value
        if improved:
            best_value, best_epoch, best_record = value_now, epoch + 1, record
        state = {
            "config": config.model_dump(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else {},
            "epoch": epoch + 1,
            "history": history,
            "best_value": best_value,
            "best_epoch": best_epoch,
            "best_record": best_record,
        }
        if averaged is not None:  # the raw weights, to resume from
            state["raw_model"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            state["ema_updates"] = int(averaged.n_averaged)
        save_checkpoint(run_dir / "last", kept, config, spec, record, state, loss_fn)
        if improved:
            save_checkpoint(run_dir / "best", kept, config, spec, record, loss=loss_fn)
        threshold = best_record.get("val", {}).get("threshold")
        write_json(
            run_dir / "metrics.json",
            {
                "select_metric": f"val.{SELECT_METRIC}",
                "best_epoch": best_epoch,
                "threshold": threshold,
                "distance": config.distance,
                "history": history,
            },
        )
        log_epoch(console, run_dir, record, improved)
        if curves is not None:
            curves(record)
        if on_epoch_end is not None:
            on_epoch_end(record)
    if curves is not None:
        curves.close()
    barrier()  # the others wait for rank 0's last checkpoint
    threshold = best_record.get("val", {}).get("threshold")
    return TrainResult(run_dir, best_epoch, best_record.get("val", {}), history, threshold)
