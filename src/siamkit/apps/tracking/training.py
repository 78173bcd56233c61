"""Train a SiamFC tracker on generated sequences, choosing the checkpoint and the cosine-window
weight on validation sequences from the training side (held-out items, training backgrounds).

Optimiser: Adam with a learning rate decayed along a cosine over the run's progress (the
larger of steps done / ``steps`` and time spent / ``minutes``, so a run cut short by its time
budget still ends at the low rate); loss: SiamFC's balanced logistic loss on
the response map (:mod:`~siamkit.apps.tracking.labels`). Training stops after ``steps`` steps
or ``minutes`` minutes, whichever comes first; validation runs every ``val_every`` steps and at
the end, and the step with the best validation success AUC is kept.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from siamkit.apps.tracking.checkpoint import build_net, save_tracker
from siamkit.apps.tracking.evaluate import evaluate_trackers
from siamkit.apps.tracking.generator import GeneratorConfig, generate_sequences
from siamkit.apps.tracking.labels import logistic_loss, response_labels
from siamkit.apps.tracking.network import SiamFC
from siamkit.apps.tracking.pairs import sample_pairs
from siamkit.apps.tracking.sequence import TrackingSequence
from siamkit.apps.tracking.sources import OPENCV_DATA, fashion_objects, opencv_backgrounds
from siamkit.apps.tracking.tracker import SiamFCTracker, TrackerParams
from siamkit.data.sources import FASHION_MNIST_DIR


class TrackerTrainConfig(BaseModel):
    """A tracker training run; saved in the run's ``config.json``."""

    model_config = ConfigDict(extra="forbid")

    out: str = "runs/tracker"  # run folder
    steps: int = Field(900, ge=1)  # optimiser steps (the run length; seed-reproducible)
    minutes: float = Field(20.0, gt=0)  # wall-clock cap; stops early when spent
    batch_size: int = Field(16, ge=1)
    lr: float = Field(3e-3, gt=0)  # Adam, cosine-decayed to lr / 100 over the run
    weight_decay: float = Field(5e-4, ge=0)
    widths: tuple[int, int, int, int] = (16, 32, 32, 32)  # encoder conv widths
    exemplar_size: int = Field(63, ge=8)  # exemplar crop side (pixels)
    search_size: int = Field(127, ge=8)  # search crop side (search - exemplar divisible by 4)
    radius: float = Field(8.0, gt=0)  # positive label radius, search-crop pixels (2 cells)
    max_gap: int = Field(20, ge=0)  # frames between exemplar and search at most
    max_shift: float = Field(12.0, ge=0)  # random target offset in the search crop (pixels)
    train_sequences: int = Field(1000, ge=1)  # generated training sequences
    val_sequences: int = Field(16, ge=1)  # generated validation sequences (training side)
    length: int = Field(60, ge=2)  # frames per generated sequence
    val_every: int = Field(300, ge=1)  # steps between validations
    window_grid: tuple[float, ...] = (0.1, 0.176, 0.3, 0.45)  # window weights tried at the end
    seed: int = 0
    threads: int = Field(1, ge=1)  # torch CPU threads
    fashion_dir: str = str(FASHION_MNIST_DIR)  # Fashion-MNIST IDX files (objects)
    backgrounds_dir: str = str(OPENCV_DATA)  # opencv-doc sample data (backgrounds)


def training_sequences(
    cfg: TrackerTrainConfig,
) -> tuple[list[TrackingSequence], list[TrackingSequence]]:
    """Training and validation sequences: both from the training side of
    :mod:`~siamkit.apps.tracking.sources` (validation items are never trained on)."""
    gen = GeneratorConfig(length=cfg.length)
    backgrounds = opencv_backgrounds(
        "train", gen.frame_height, gen.frame_width, cfg.backgrounds_dir
    )
    train_objects = fashion_objects("train", cfg.fashion_dir)
    val_objects = fashion_objects("val", cfg.fashion_dir)
    train = generate_sequences(
        train_objects, backgrounds, cfg.train_sequences, cfg.seed, gen, "train"
    )
    val = generate_sequences(val_objects, backgrounds, cfg.val_sequences, cfg.seed + 1, gen, "val")
    return list(train), list(val)


def validation_auc(
    net: SiamFC, sequences: list[TrackingSequence], params: TrackerParams
) -> tuple[float, float]:
    """Success AUC and precision@20 of ``net`` on ``sequences`` (the net is left in eval mode)."""
    net.eval()
    row = evaluate_trackers(sequences, {"siamfc": lambda: SiamFCTracker(net, params)})[0]
    return row.ope.auc, row.ope.precision


def train_tracker(
    cfg: TrackerTrainConfig,
    sequences: tuple[list[TrackingSequence], list[TrackingSequence]] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Train, select on validation, save the run folder ``cfg.out``; returns its path.

    Args:
        cfg: The run's configuration.
        sequences: ``(train, val)`` sequences; default :func:`training_sequences`.
        log: Where progress lines go.

    Example (two steps on one generated sequence, validated on another; the default,
    ``train_tracker(TrackerTrainConfig(out="runs/tracker"))``, generates its sequences from
    Fashion-MNIST and opencv-doc's videos):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=2)  # digits over noise, 10 frames
        >>> cfg = TrackerTrainConfig(
        ...     out="runs/tracker", steps=2, batch_size=2, widths=(4, 4, 4, 4), window_grid=(0.176,)
        ... )
        >>> train_tracker(cfg, sequences=(seqs[:1], seqs[1:]), log=lambda line: None)
        PosixPath('runs/tracker')
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train_seqs, val_seqs = sequences if sequences is not None else training_sequences(cfg)
    net = build_net(cfg.widths, cfg.exemplar_size, cfg.search_size)
    params = TrackerParams()
    optimiser = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    labels_size, stride = net.response_size, net.stride
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"auc": -1.0}
    start = time.perf_counter()
    losses: list[float] = []
    step = 0

    def validate() -> None:
        auc, precision = validation_auc(net, val_seqs, params)
        entry = {
            "step": step,
            "loss": float(np.mean(losses)) if losses else None,
            "val_auc": auc,
            "val_precision": precision,
            "seconds": round(time.perf_counter() - start, 1),
        }
        history.append(entry)
        log(f"step {step}: loss {entry['loss']}, val AUC {auc:.3f}, precision@20 {precision:.3f}")
        losses.clear()
        if auc > best["auc"]:
            best.update(auc=auc, step=step, state=copy.deepcopy(net.state_dict()))

    while step < cfg.steps and time.perf_counter() - start < cfg.minutes * 60:
        net.train()
        # cosine decay over the run's progress: steps done or time spent, whichever is further
        progress = max(step / cfg.steps, (time.perf_counter() - start) / (cfg.minutes * 60))
        lr = cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
        for group in optimiser.param_groups:
            group["lr"] = lr
        batch = sample_pairs(
            train_seqs, rng, cfg.batch_size, cfg.exemplar_size, cfg.search_size,
            cfg.max_gap, cfg.max_shift,
        )  # fmt: skip
        labels = response_labels(labels_size, stride, cfg.radius, batch.offsets)
        loss = logistic_loss(net(batch.exemplars, batch.searches), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        step += 1
        if step % cfg.val_every == 0:
            validate()
    if not history or history[-1]["step"] != step:
        validate()
    net.load_state_dict(best["state"])
    # the cosine window's weight, chosen on the same validation sequences
    window_scores = {}
    for w in cfg.window_grid:
        trial = params.model_copy(update={"window_influence": w})
        window_scores[w] = validation_auc(net, val_seqs, trial)[0]
        log(f"window influence {w}: val AUC {window_scores[w]:.3f}")
    best_window = max(window_scores, key=lambda w: window_scores[w])
    params = params.model_copy(update={"window_influence": best_window})
    metrics = {
        "history": history,
        "best_step": best["step"],
        "best_val_auc": window_scores[best_window],
        "window_influence": {str(k): v for k, v in window_scores.items()},
        "steps": step,
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    out = save_tracker(cfg.out, net, params, cfg.model_dump(mode="json"), metrics)
    log(
        f"best step {best['step']}, window {best_window}: "
        f"val AUC {window_scores[best_window]:.3f}; saved {out}"
    )
    return out
