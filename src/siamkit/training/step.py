"""One training batch through the objective: views, the forward pass, the loss terms.

The trainer's loop owns what happens around it (gradient synchronisation, the backward pass,
the optimiser step, progress); :func:`forward_batch` turns one batch into its loss.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from siamkit.data.augment import Augment
from siamkit.data.identical import identical_inputs
from siamkit.dist import gather
from siamkit.losses.rotation import WithRotation
from siamkit.losses.uniformity import UniformityLoss
from siamkit.miners import MinerStats
from siamkit.models.siamese import SiameseNetwork
from siamkit.training.config import TrainConfig
from siamkit.training.distributed import gather_batch, share_weight
from siamkit.training.objective import (
    batch_loss,
    embed_turned,
    guards_duplicates,
    rotation_term,
    with_rotation_classes,
)


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
            uniformity=UniformityLoss() if config.uniformity > 0 else None,
            rotation=rotation,
            rotation_classes=rotation is not None and config.rotation_classes,
            augment=Augment() if config.augments else None,
            device=device,
            channels_last=channels_last,
            amp=amp,
        )


class BatchLoss(NamedTuple):
    """One batch's loss: ``value`` (reported), ``scaled`` (what goes backward under DDP),
    the miner's statistics (or None) and how many inputs the model embedded."""

    value: Tensor
    scaled: Tensor
    stats: MinerStats | None
    inputs: int


def forward_batch(
    obj: Objective,
    x: Tensor,
    labels: Tensor | None,
    y: Tensor | None,
    roles: Tensor | None,
    g: torch.Generator,
) -> BatchLoss:
    """The loss of one batch from :func:`~siamkit.training.batches.epoch_batches`.

    Args:
        obj: The run's objective.
        x: ``(b, ...)`` the batch's raw items; ``labels`` ``(b,)`` their classes (None for
            explicit pairs or triplets, ``y`` then marks the pairs); ``roles`` ``(b,)`` or None.
        g: The epoch's augmentation draws (views, turns).
    """
    cfg, device = obj.config, obj.device
    labelled = labels is not None or cfg.self_supervised
    raw, rows = x, None  # inputs before augmentation; raw item of each view
    # the duplicate guard (with rotation classes: over the turned images too, below)
    local_guard = obj.guard and labelled and not obj.gathered
    eq = identical_inputs(x) if local_guard and not obj.rotation_classes else None
    augment = obj.augment
    if cfg.self_supervised and augment is not None:
        v1, v2 = augment.two_views(x, g)
        labels = torch.arange(len(x)).repeat(2)  # the two views of an item match
        x, rows = torch.cat([v1, v2]), labels
    elif augment is not None and cfg.views == 2 and labels is not None:
        v1, v2 = augment.two_views(x, g)  # two views per item, its label on both
        labels, x = labels.repeat(2), torch.cat([v1, v2])
        rows = torch.arange(len(raw)).repeat(2)
    elif augment is not None:
        x = augment(x, g)
    if eq is not None and len(eq) * 2 == len(x):  # two views: tile the guard
        eq = eq.repeat(2, 2)
    x = x.to(device, non_blocking=True)
    if obj.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with obj.amp:
        emb = obj.model.embed(x) if obj.ddp is None else obj.ddp(x)  # (b, D)
    # the loss in float32, outside autocast: bf16 distances would blur mining
    emb = emb.float()
    turned, inputs, own = None, raw, None  # inputs: what the guard compares
    if obj.rotation_classes and labels is not None:
        turned = embed_turned(obj.model, raw, g, device, obj.channels_last, obj.amp)
        emb, labels, inputs, rows = with_rotation_classes(emb, labels, rows, raw, turned)
        own = torch.arange(len(emb), device=device) < len(emb) - len(raw)
        if local_guard:
            eq = identical_inputs(inputs)[rows][:, rows]
    if obj.gathered and labels is not None:  # every process sees the global batch
        emb, labels, eq = gather_batch(
            emb,
            labels.to(device),
            inputs if obj.guard else None,
            rows,
            item_labels=cfg.self_supervised,
        )
        if own is not None:  # the rows not turned, in the global batch
            own = gather(own.to(torch.uint8)).bool()
        if roles is not None:
            roles = gather(roles.to(device))
    value = batch_loss(
        obj.loss_fn,
        emb,
        None if labels is None else labels.to(device),
        y,
        None if eq is None else eq.to(device),
        None if roles is None else roles.to(device),
    )
    if obj.uniformity is not None:  # spread over the sphere (the global batch)
        spread = emb if own is None else emb[own]  # turned rows: not here
        value = value + cfg.uniformity * obj.uniformity(spread)
    rot = None  # the turned originals (this process's share); the head predicts k
    if obj.rotation is not None:
        if turned is None:  # without rotation classes the turned images are embedded here
            turned = embed_turned(obj.model, raw, g, device, obj.channels_last, obj.amp)
        rot = rotation_term(obj.rotation, turned)
        value = value + rot
    stats = getattr(obj.loss_fn, "last_stats", None)
    scaled = value
    if obj.ddp is not None and not (obj.gathered and labels is not None):
        scaled = value * share_weight(len(x), device)  # uneven last shares
    elif obj.ddp is not None and rot is not None:  # gathered: only rot is a share's
        scaled = value + rot * (share_weight(len(raw), device) - 1.0)
    return BatchLoss(value, scaled, stats, len(x))
