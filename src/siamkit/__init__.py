"""siamkit: similarity learning with Siamese networks.

Example:
    >>> from siamkit import TrainConfig, train, load_run
    >>> result = train(TrainConfig(data="digits", epochs=3, out="runs/digits"))
"""

from __future__ import annotations

from siamkit.distances import DISTANCES, Distance, get_distance
from siamkit.losses import ContrastiveLoss, TripletLoss, get_loss
from siamkit.models import ConvEncoder, MLPEncoder, SiameseNetwork, build_encoder
from siamkit.training import TrainConfig, load_run, train

__version__ = "0.1.0"

__all__ = [
    "DISTANCES",
    "ContrastiveLoss",
    "ConvEncoder",
    "Distance",
    "MLPEncoder",
    "SiameseNetwork",
    "TrainConfig",
    "TripletLoss",
    "build_encoder",
    "get_distance",
    "get_loss",
    "load_run",
    "train",
]
