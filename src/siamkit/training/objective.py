"""The training objective: the configured loss and what stays fixed over a run.

:func:`build_loss` turns a config into its loss; :class:`Objective` holds the model, the loss
terms and how batches are fed, which :func:`~siamkit.training.step.forward_batch` applies to
each batch.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from siamkit.data.augment import Augment
from siamkit.losses import get_loss, loss_takes
from siamkit.losses.base import takes_inputs_equal
from siamkit.losses.projection import ProjectedLoss
from siamkit.losses.rotation import RotationLoss, WithRotation
from siamkit.losses.uniformity import UniformityLoss
from siamkit.miners import MinerStats
from siamkit.models.siamese import SiameseNetwork
from siamkit.run.config import TrainConfig


def guards_duplicates(loss_fn: nn.Module) -> bool:
    """Whether a loss takes ``inputs_equal`` (identical inputs are then never negatives)."""
    return takes_inputs_equal(loss_fn)


def build_loss(config: TrainConfig, model: SiameseNetwork, n_classes: int) -> nn.Module:
    """The loss a config names, with the options it takes.

    A learned distance (mahalanobis) is shared with the loss, so both train the same metric.
    """
    learned = bool(getattr(model.distance, "learned", False))
    if learned and config.loss_distance not in (None, config.distance):
        raise ValueError(
            f"with the learned distance '{config.distance}' the loss uses it too; drop "
            f"--loss-distance {config.loss_distance}"
        )
    distance: Any = model.distance if learned else config.loss_distance
    options: dict[str, Any] = {
        "margin": config.margin,
        "distance": distance,
        "miner": config.miner,
        "temperature": config.temperature,
        "reduction": config.reduction,
    }
    options.update(config.loss_options)  # never one of the above (TrainConfig refuses them)
    if loss_takes(config.loss, "num_classes"):
        options["num_classes"] = n_classes
    # the model's own size: a pretrained encoder without a head gives its features' size
    dim = int(model.embedding_dim or config.embedding_dim)
    if loss_takes(config.loss, "embedding_dim"):
        options["embedding_dim"] = dim
    uses_labels = config.sampling != "pairs" or config.self_supervised
    if config.views == 2 and not uses_labels:
        raise ValueError(
            "views=2 makes two augmented views of each labelled item, which needs batches of "
            "labelled items; use --sampling balanced (or random) with --views 2"
        )
    if not uses_labels and (config.miner or config.loss not in ("contrastive", "triplet")):
        raise ValueError(
            f"sampling=pairs gives explicit pairs/triplets, which only the contrastive and "
            f"triplet losses without a miner take; use --sampling balanced for loss "
            f"'{config.loss}'" + (f" with miner '{config.miner}'" if config.miner else "")
        )
    loss = get_loss(config.loss, **options)
    if config.projection:
        if not uses_labels:
            raise ValueError(
                "--projection wraps a loss over labelled batches; sampling=pairs gives explicit "
                "pairs, so use --sampling balanced (or drop --projection)"
            )
        if learned:
            raise ValueError(
                f"--projection with the learned distance '{config.distance}' would train the "
                "metric on the head's output, not the model's; use another distance or drop it"
            )
        loss = ProjectedLoss(loss, dim, config.projection, config.normalize)
    if config.rotation:  # None (not yet resolved by the trainer) or 0: off
        if not uses_labels:
            raise ValueError(
                "--rotation adds a task beside a loss over labelled batches; sampling=pairs "
                "gives explicit pairs, so use --sampling balanced (or drop --rotation)"
            )
        head = RotationLoss(dim, config.rotation_hidden)
        loss = WithRotation(loss, head, config.rotation)
    return loss


@dataclass(frozen=True)
class Objective:
    """What stays fixed over a run: the model, the loss terms and how batches are fed.

    Attributes:
        config: The run's settings (views, self-supervision, the uniformity weight).
        model: The network; ``ddp`` its DDP wrapper under ``torchrun`` (else None).
        loss_fn: The metric loss (a :class:`WithRotation` when the rotation task is on).
        guard: Whether the loss takes the identical-input mask.
        gathered: Whether every process scores the global batch (gathered negatives).
        uniformity: The uniformity term, or None.
        rotation: ``loss_fn`` when it carries the rotation task, else None.
        rotation_classes: The turned images also enter the metric loss as classes.
        augment: The augmentation, or None.
        device: Where the model runs; ``channels_last``: feed images NHWC.
        amp: The autocast context (or a null one).
    """

    config: TrainConfig
    model: SiameseNetwork
    ddp: nn.Module | None
    loss_fn: nn.Module
    guard: bool
    gathered: bool
    uniformity: UniformityLoss | None
    rotation: WithRotation | None
    rotation_classes: bool
    augment: Augment | None
    device: torch.device
    channels_last: bool
    amp: AbstractContextManager[Any]

    @classmethod
    def build(
        cls,
        config: TrainConfig,
        model: SiameseNetwork,
        ddp: nn.Module | None,
        loss_fn: nn.Module,
        device: torch.device,
        channels_last: bool,
        amp: AbstractContextManager[Any],
    ) -> Objective:
        """The objective of a run: the rest follows from ``config`` and ``loss_fn``."""
        rotation = loss_fn if isinstance(loss_fn, WithRotation) else None
        return cls(
            config=config,
            model=model,
            ddp=ddp,
            loss_fn=loss_fn,
            guard=guards_duplicates(loss_fn),  # identical inputs are then never negatives
            gathered=ddp is not None and config.gather_negatives,
            uniformity=UniformityLoss() if config.uniformity else None,  # None/0: off
            rotation=rotation,
            rotation_classes=rotation is not None and config.rotation_classes,
            augment=Augment() if config.augments else None,
            device=device,
            channels_last=channels_last,
            amp=amp,
        )


def mean_miner_stats(stats: list[MinerStats]) -> dict[str, float]:
    """Per-epoch averages of miner statistics (NaN means skipped; null if all NaN)."""
    out: dict[str, float] = {}
    for key in MinerStats._fields:
        vals = [float(getattr(s, key)) for s in stats if math.isfinite(float(getattr(s, key)))]
        out[key] = sum(vals) / len(vals) if vals else float("nan")
    return {k: v for k, v in out.items() if math.isfinite(v)}
