"""Losses: they take embeddings and labels, never a model.

Registered: ``contrastive``, ``triplet`` (optionally with a miner), ``online_contrastive``
(contrastive + hard pairs), ``batch_hard_triplet``, ``nt_xent``, ``multiple_negatives_ranking``
and ``multiple_negatives_symmetric_ranking`` (anchor → response pairs), ``multi_similarity``,
``arcface`` (learned class centres), ``koch`` (learned L1 + sigmoid head).
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from siamkit.losses.arcface import ArcFaceLoss
from siamkit.losses.base import LOSSES
from siamkit.losses.contrastive import ContrastiveLoss, online_contrastive
from siamkit.losses.koch import KochLoss
from siamkit.losses.multi_similarity import MultiSimilarityLoss
from siamkit.losses.nt_xent import NTXentLoss
from siamkit.losses.projection import ProjectedLoss
from siamkit.losses.ranking import (
    MultipleNegativesRankingLoss,
    MultipleNegativesSymmetricRankingLoss,
)
from siamkit.losses.rotation import RotationLoss, WithRotation
from siamkit.losses.triplet import TripletLoss, batch_hard_triplet


def get_loss(loss: str | nn.Module, **options: Any) -> nn.Module:
    """A loss from its registered name, built with the ``options`` it takes, or the object.

    Options that are None are left to the loss's defaults. An option the loss does not take
    (say a miner for ``nt_xent``) is a ValueError naming what it does take.

    Example:
        >>> get_loss("triplet", margin=0.2, miner="semi_hard")
        TripletLoss(margin=0.2, distance=squared_euclidean, reduction=mean, miner=semi_hard)
    """
    if isinstance(loss, nn.Module):
        return loss
    factory = LOSSES.get(loss)
    accepted = inspect.signature(factory).parameters
    given = {k: v for k, v in options.items() if v is not None}
    extra = sorted(k for k in given if k not in accepted)
    if extra:
        takes = ", ".join(k for k in accepted if k != "self")
        raise ValueError(f"loss '{loss}' does not take {', '.join(extra)}; it takes: {takes}")
    return factory(**given)


def loss_takes(loss: str, option: str) -> bool:
    """Whether the registered loss ``loss`` accepts the keyword ``option``."""
    return option in inspect.signature(LOSSES.get(loss)).parameters


__all__ = [
    "LOSSES",
    "ArcFaceLoss",
    "ContrastiveLoss",
    "KochLoss",
    "MultiSimilarityLoss",
    "MultipleNegativesRankingLoss",
    "MultipleNegativesSymmetricRankingLoss",
    "NTXentLoss",
    "ProjectedLoss",
    "RotationLoss",
    "TripletLoss",
    "WithRotation",
    "batch_hard_triplet",
    "get_loss",
    "loss_takes",
    "online_contrastive",
]
