"""The training objective: building the configured loss and applying it to a batch."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from siamkit.data.augment import quarter_turns
from siamkit.losses import ContrastiveLoss, TripletLoss, get_loss, loss_takes
from siamkit.losses.base import apply_loss, takes_inputs_equal
from siamkit.losses.projection import ProjectedLoss
from siamkit.losses.rotation import TURNS, RotationLoss, WithRotation
from siamkit.miners import MinerStats
from siamkit.models.siamese import SiameseNetwork
from siamkit.training.config import TrainConfig


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
    :func:`guards_duplicates`); ``roles`` ``(B,)`` (0 anchor, 1 response) go to losses that
    rank responses for anchors (:func:`~siamkit.losses.base.takes_roles`).
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


def mean_miner_stats(stats: list[MinerStats]) -> dict[str, float]:
    """Per-epoch averages of miner statistics (NaN means skipped; null if all NaN)."""
    out: dict[str, float] = {}
    for key in MinerStats._fields:
        vals = [float(getattr(s, key)) for s in stats if math.isfinite(float(getattr(s, key)))]
        out[key] = sum(vals) / len(vals) if vals else float("nan")
    return {k: v for k, v in out.items() if math.isfinite(v)}


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
