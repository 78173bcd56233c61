"""One training batch through the objective: views, the forward pass, the loss terms.

The trainer's loop owns what happens around it (gradient synchronisation, the backward pass,
the optimiser step, progress); :func:`forward_batch` turns one batch into its loss, with
:func:`batch_loss` for the metric loss and the rotation task's turned images
(:func:`embed_turned`, :func:`with_rotation_classes`, :func:`rotation_term`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from siamkit.data.augment import quarter_turns
from siamkit.data.identical import identical_inputs
from siamkit.dist import gather
from siamkit.losses import ContrastiveLoss, TripletLoss
from siamkit.losses.base import apply_loss
from siamkit.losses.rotation import TURNS, WithRotation
from siamkit.miners import MinerStats
from siamkit.models.siamese import SiameseNetwork
from siamkit.training.distributed import gather_batch, share_weight
from siamkit.training.objective import Objective


def batch_loss(
    loss_fn: nn.Module,
    emb: Tensor,
    labels: Tensor | None,
    y: Tensor | None,
    inputs_equal: Tensor | None = None,
    roles: Tensor | None = None,
) -> Tensor:
    """The loss of one batch: labelled items, explicit pairs (``y``) or explicit triplets.

    ``inputs_equal`` ``(B, B)`` marks identical inputs for losses that take it (see
    :func:`~siamkit.training.objective.guards_duplicates`); ``roles`` ``(B,)`` (0 anchor,
    1 response) go to losses that rank responses for anchors
    (:func:`~siamkit.losses.base.takes_roles`).
    """
    if labels is not None:
        return apply_loss(loss_fn, emb, labels, inputs_equal, roles)
    if y is not None:
        if not isinstance(loss_fn, ContrastiveLoss):
            raise ValueError("sampling=pairs needs the contrastive loss (or triplet triplets)")
        a, b = emb.chunk(2)
        return loss_fn.pair_loss(a, b, y.to(emb.device))
    if not isinstance(loss_fn, TripletLoss):
        raise ValueError("explicit triplets need the triplet loss")
    a, p, n = emb.chunk(3)
    return loss_fn.triplet_loss(a, p, n)


class Turned(NamedTuple):
    """One batch's raw images turned for the rotation task, and their embeddings."""

    turns: Tensor  # (n,) int64 in 0..3, on the device
    images: Tensor  # (n, C, H, H) the turned images, on the CPU (the duplicate guard reads them)
    embeddings: Tensor  # (n, D) float32


def embed_turned(
    model: SiameseNetwork,
    raw: Tensor,
    g: torch.Generator,
    device: torch.device,
    channels_last: bool,
    amp: AbstractContextManager[Any],
) -> Turned:
    """Each raw image ``(n, C, H, H)`` turned by a random multiple of 90° (drawn from ``g``)
    and embedded by ``model``."""
    turns = torch.randint(4, (len(raw),), generator=g)  # (n,)
    images = quarter_turns(raw, turns)
    x = images.to(device, non_blocking=True)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with amp:
        emb = model.embed(x)  # (n, D)
    return Turned(turns.to(device), images, emb.float())


def rotation_term(rotation: WithRotation, turned: Turned) -> Tensor:
    """``w · CE`` of the rotation task: the head's guess of each turned image's quarter turns
    (from :func:`embed_turned`) against the turns it was given."""
    return rotation.weight * rotation.rotation(turned.embeddings, turned.turns)


def with_rotation_classes(
    emb: Tensor,
    labels: Tensor,
    rows: Tensor | None,
    raw: Tensor,
    turned: Turned,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The metric loss's batch with the turned images added, each (class, turn) a class.

    An item of class ``c`` turned ``k`` quarter turns gets label ``4c + k``; the batch's own
    items (not turned) keep ``4c``, so a turned copy with ``k = 0`` stays their positive.

    Args:
        emb: ``(b, D)`` the batch's embeddings; ``labels`` ``(b,)`` their classes ``0..C-1``.
        rows: ``(b,)`` index into ``raw`` of each embedding row (two views), or None (``arange``).
        raw: ``(n, ...)`` the batch's raw items; ``turned``: them turned and embedded.

    Returns:
        ``(b + n, D)`` embeddings; ``(b + n,)`` labels; the inputs the rows come from,
        ``(2n, ...)`` (``raw``, then the turned images); and ``(b + n,)`` each row's index into
        those inputs. The last two are what the identical-input guard compares.

    Example:
        >>> import torch
        >>> t = Turned(torch.tensor([1]), torch.zeros(1, 1, 2, 2), torch.ones(1, 3))
        >>> _, y, _, r = with_rotation_classes(torch.zeros(1, 3), torch.tensor([2]), None,
        ...                                    torch.ones(1, 1, 2, 2), t)
        >>> y.tolist(), r.tolist()
        ([8, 9], [0, 1])
    """
    n = len(raw)
    item_rows = torch.arange(len(emb)) if rows is None else rows.cpu()
    labels = labels.to(emb.device)
    item_labels = labels.new_empty(n)
    item_labels[item_rows.to(labels.device)] = labels  # each raw item's class (views share it)
    joint = torch.cat([labels * TURNS, item_labels * TURNS + turned.turns])
    inputs = torch.cat([raw, turned.images])  # (2n, ...)
    return (
        torch.cat([emb, turned.embeddings]),
        joint,
        inputs,
        torch.cat([item_rows, n + torch.arange(n)]),
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
        value = value + (cfg.uniformity or 0.0) * obj.uniformity(spread)
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
