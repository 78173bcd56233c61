"""Choose on held-out training classes, then train the final model on all of them (refit).

A run with validation data first trains a *selection* run (``RUN/selection``) on the training
classes minus the held-out ones; it chooses the epoch count (the best validation epoch) and the
default operating point: the distance threshold, and the distance -> P(same) map, fitted on
pairs of the held-out classes for the target false accept rate (``--target-far``). The model
saved for the user (``RUN/best``, ``RUN/last``) is then trained on *every* training class for
that many epochs, with nothing held out, and takes the chosen operating point
(``RUN/calibration.json``, and ``operating_point`` in ``RUN/metrics.json``).

The evaluation classes are never read here. The refit costs one more training run (about
``best_epoch / epochs`` of the selection's time, times the share of items it adds); both times
are printed and recorded under ``selection`` and ``refit`` in ``RUN/metrics.json``.

Example:
    >>> from siamkit.training import train
    >>> config = TrainConfig(data="digits", epochs=1, widths=[8, 16], out="runs/refit")
    >>> result = train(config, progress=False)  # refit=True is the default
    >>> sorted(p.name for p in Path("runs/refit").iterdir() if p.is_dir())
    ['best', 'last', 'selection']
    >>> point = json.loads(Path("runs/refit/metrics.json").read_text())["operating_point"]
    >>> point["target_far"], point["fitted_on"]
    (0.05, 'held-out classes')
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape

from siamkit.dist import barrier, on_main
from siamkit.models.spec import ModelSpec
from siamkit.run import Calibration
from siamkit.run.checkpoint import load_run
from siamkit.run.config import TrainConfig
from siamkit.run.files import DAMAGED, read_json, write_json
from siamkit.training.keep_selection import join_selection, keeps_selection
from siamkit.training.operating_point import operating_point, operating_point_caution
from siamkit.training.resume import check_resumable, saved_config
from siamkit.training.setup import prepare_data

SELECTION = "selection"  # the choosing run's folder inside the run directory
AUTO = ("rotation", "uniformity")  # settings whose None the trainer resolves from the data
# where the joined model's members come from (--keep-selection), recorded in metrics.json
MEMBERS = ["best (the refit model)", f"{SELECTION}/best (the selection model)"]


def refits(config: TrainConfig) -> bool:
    """Whether ``config`` trains a selection run and then refits on all training classes:
    ``refit`` is on, labels are used, and some validation data is held out."""
    held_out = config.val_classes != "none" or config.val_fraction > 0
    return config.refit and not config.self_supervised and held_out


def selection_config(config: TrainConfig) -> TrainConfig:
    """The selection run's settings: the user's (``refit`` stays on, so the default held-out
    classes are the refit's), written to ``RUN/selection``."""
    return config.model_copy(update={"out": str(Path(config.out) / SELECTION)})


def refit_config(
    config: TrainConfig, epochs: int, chosen: dict[str, Any] | None = None
) -> TrainConfig:
    """The final run's settings: every training class, no validation, ``epochs`` epochs, and
    the numbers the selection run (its saved settings ``chosen``) gave the recipe's "auto"
    options (:data:`AUTO`), so both runs train the same recipe whatever the held-out share
    does to the data's size."""
    update: dict[str, Any] = {
        "val_classes": "none", "val_fraction": 0.0, "epochs": epochs, "refit": False
    }  # fmt: skip
    for key in AUTO:
        if getattr(config, key) is None and chosen is not None and chosen.get(key) is not None:
            update[key] = chosen[key]
    return config.model_copy(update=update)


def prepare_refit_out(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write over a run unless told; clear one being overwritten (both phases)."""
    sel = run_dir / SELECTION
    started = (run_dir / "last").exists() or (sel / "last").exists()
    if started and not resume and not overwrite:
        raise ValueError(
            f"{run_dir} already holds a run; pass --resume to continue it, --overwrite to "
            "replace it, or choose another --out"
        )
    if overwrite and not resume:
        if (run_dir / "config.json").is_file():  # a finished (or refitting) siamkit run
            shutil.rmtree(run_dir)
        elif _is_selection(sel):  # stopped during the selection: only that folder
            shutil.rmtree(sel)


def _is_selection(folder: Path) -> bool:
    """Whether ``folder`` is the selection run of its parent (not an unrelated run)."""
    try:
        saved = json.loads((folder / "config.json").read_text())["train"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(saved.get("refit")) and Path(str(saved.get("out", ""))).name == SELECTION


def selection_done(config: TrainConfig) -> bool:
    """Whether ``RUN/selection`` finished all of ``config.epochs`` (a resume skips it)."""
    path = Path(config.out) / SELECTION / "metrics.json"
    try:
        history = json.loads(path.read_text())["history"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(history, list) and len(history) >= config.epochs


def train_with_refit(
    config: TrainConfig,
    run_phase: Callable[[TrainConfig, bool], Any],
    resume: bool,
    overwrite: bool,
    console: Console,
    is_main: bool,
    device: torch.device | str = "cpu",
) -> Any:
    """Selection run, operating point, then the refit; returns the refit's ``TrainResult``.

    Args:
        config: The user's settings (``refits(config)`` is True).
        run_phase: Trains one plain run: ``run_phase(config, resume) -> TrainResult``.
        resume, overwrite: As for :func:`siamkit.training.train`.
        console: Where the phases are announced.
        is_main: Rank 0 (writes the operating point and the records).
        device: Where the operating point's embeddings are computed.
    """
    run_dir = Path(config.out)
    on_main(lambda: prepare_refit_out(run_dir, resume, overwrite))
    sel_cfg = selection_config(config)
    sel_dir = Path(sel_cfg.out)
    if resume and not (sel_dir / "last").exists() and not (run_dir / "last").exists():
        raise ValueError(
            f"cannot resume: neither {sel_dir / 'last'} nor {run_dir / 'last'} exists (no "
            f"completed epoch in {run_dir}); start it without --resume"
        )
    started = time.perf_counter()
    _run_selection(config, sel_cfg, run_phase, resume, console)
    # every process reads the choice rank 0 wrote (the phase ends at a barrier)
    best_epoch, best_val = _selection_choice(sel_dir)
    selection_seconds = time.perf_counter() - started
    final_cfg = refit_config(config, best_epoch, saved_config(sel_dir))
    resume_final = resume and (run_dir / "last").exists()
    if resume_final and _final_epochs(run_dir) not in (None, best_epoch):
        # the selection chose again (--epochs changed): the final run starts over
        on_main(lambda: _clear_final(run_dir))
        resume_final = False
    console.print(
        f"[bold]2/2 refit[/]: training the final model on every training class for "
        f"{final_cfg.epochs} epoch(s), the selection's best (the selection took "
        f"{selection_seconds:.0f} s; the refit costs about as much again)"
    )
    started = time.perf_counter()
    result = run_phase(final_cfg, resume_final)
    refit_seconds = time.perf_counter() - started
    op: tuple[Calibration, dict[str, Any]] | None = None
    if is_main:
        op, joined = _finish(run_dir, config, sel_cfg, console, device)
        _record(
            run_dir, config, op, best_epoch, best_val, selection_seconds, refit_seconds, joined
        )  # fmt: skip
        if op is not None:
            _announce(op[1], str(run_dir), refit_seconds, console)
    barrier()
    threshold = op[0].threshold if op is not None else result.threshold
    return result._replace(threshold=threshold, best=best_val or result.best)


def _run_selection(
    config: TrainConfig,
    sel_cfg: TrainConfig,
    run_phase: Callable[[TrainConfig, bool], Any],
    resume: bool,
    console: Console,
) -> None:
    """Train the selection run, or, resuming one that finished, check its settings match."""
    sel_dir = Path(sel_cfg.out)
    if resume and selection_done(config):
        console.print(f"selection run {sel_dir} already finished; going on to the refit")
        saved = saved_config(sel_dir)
        if saved is not None:  # the same settings (the folder may have moved; "auto" matches)
            same = {"out": saved.get("out", sel_cfg.out)}
            for key in AUTO:
                if getattr(sel_cfg, key) is None:
                    same[key] = saved.get(key)
            check_resumable(saved, sel_cfg.model_copy(update=same))
        return
    console.print(
        f"[bold]1/2 selection[/]: training on the training classes minus those held out, "
        f"to choose the epoch count and the operating point ({sel_dir})"
    )
    run_phase(sel_cfg, resume and (sel_dir / "last").exists())


def _finish(
    run_dir: Path,
    config: TrainConfig,
    sel_cfg: TrainConfig,
    console: Console,
    device: torch.device | str,
) -> tuple[tuple[Calibration, dict[str, Any]] | None, ModelSpec | None]:
    """The final model (joined with the selection model under ``--keep-selection``) and the
    operating point carried to it; returns the point and the joined model's spec (or None)."""
    chosen = load_run(run_dir / SELECTION, "best")
    final = load_run(run_dir, "best")
    joined = keeps_selection(config, final)
    if joined:
        final = join_selection(final, chosen, MEMBERS)
        console.print(
            f"the final model embeds with the selection model beside the refit one "
            f"({final.spec.embedding_dim}-d; --no-keep-selection for the refit model alone)"
        )
    op = operating_point(
        chosen.model.to(device), final.model.to(device), prepare_data(sel_cfg), chosen.config,
        device, checkpoint=f"{SELECTION}/best, carried to best",
    )  # fmt: skip
    return op, final.spec if joined else None


def _announce(record: dict[str, Any], run: str, refit_seconds: float, console: Console) -> None:
    """Print the operating point the run promises, and a caution when it rests on little."""
    console.print(
        f"operating point: threshold {record['threshold']:.4f} for FAR "
        f"{record['target_far']} (fitted on pairs of {record['fitted_on']} "
        f"{record['classes']}: FAR {record['promised_far']:.3f}, FRR "
        f"{record['promised_frr']:.3f}); refit took {refit_seconds:.0f} s"
    )
    caution = operating_point_caution(record, run)
    if caution is not None:
        console.print(f"[yellow]note[/]: {escape(caution)}")


def _selection_choice(sel_dir: Path) -> tuple[int, dict[str, Any]]:
    """The selection's best epoch (1 or more) and its validation figures, from its records."""
    metrics = read_json(sel_dir / "metrics.json", DAMAGED)
    best = max(int(metrics.get("best_epoch") or 0), 1)
    history = metrics.get("history") or []
    val = history[best - 1].get("val", {}) if len(history) >= best else {}
    return best, dict(val)


def _final_epochs(run_dir: Path) -> int | None:
    """The epoch count the final run was started with (None if unknown)."""
    try:
        return int(json.loads((run_dir / "config.json").read_text())["train"]["epochs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _clear_final(run_dir: Path) -> None:
    """Remove the final run's files, keeping the selection."""
    for name in ("best", "last"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in ("metrics.json", "calibration.json", "config.json", "train.log"):
        (run_dir / name).unlink(missing_ok=True)


def _record(
    run_dir: Path,
    config: TrainConfig,
    op: tuple[Calibration, dict[str, Any]] | None,
    best_epoch: int,
    best_val: dict[str, Any],
    selection_seconds: float,
    refit_seconds: float,
    joined: ModelSpec | None = None,
) -> None:
    """Add the selection, the refit and the operating point to ``RUN/metrics.json`` (and the
    calibration to ``RUN/calibration.json``); ``RUN/config.json`` keeps what was asked. With
    ``joined`` (the selection model kept beside the refit one), both name the joined model."""
    metrics_path = run_dir / "metrics.json"
    metrics = read_json(metrics_path, DAMAGED)
    metrics["selection"] = {
        "run": SELECTION,
        "best_epoch": best_epoch,
        "val": best_val,
        "seconds": selection_seconds,
    }
    metrics["refit"] = {"epochs": best_epoch, "seconds": refit_seconds}
    if op is not None:
        cal, record = op
        metrics["threshold"] = cal.threshold
        metrics["operating_point"] = record
        cal.save(run_dir)
    if joined is not None:
        metrics["members"] = MEMBERS
    write_json(metrics_path, metrics)
    run_config = read_json(run_dir / "config.json", DAMAGED)
    run_config["requested"] = config.model_dump()
    if joined is not None:
        run_config["model"] = joined.model_dump()
    write_json(run_dir / "config.json", run_config)
