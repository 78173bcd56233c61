"""Losses: they take embeddings and labels, never a model."""

from __future__ import annotations

from torch import nn

from siamkit.distances import Distance
from siamkit.losses.base import LOSSES
from siamkit.losses.contrastive import ContrastiveLoss
from siamkit.losses.triplet import TripletLoss


def get_loss(
    loss: str | nn.Module, margin: float = 1.0, distance: str | Distance | None = None
) -> nn.Module:
    """A loss from its registered name (built with ``margin`` and ``distance``), or the object."""
    if isinstance(loss, nn.Module):
        return loss
    factory = LOSSES.get(loss)
    if distance is None:
        return factory(margin=margin)
    return factory(margin=margin, distance=distance)


__all__ = ["LOSSES", "ContrastiveLoss", "TripletLoss", "get_loss"]
