"""Encoders (image, tabular), the twin network and input standardisation."""

from __future__ import annotations

from siamkit.models.conv import ConvEncoder
from siamkit.models.mlp import MLPEncoder
from siamkit.models.registry import ENCODERS, build_encoder
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.standardize import Standardize

__all__ = [
    "ENCODERS",
    "ConvEncoder",
    "MLPEncoder",
    "SiameseNetwork",
    "Standardize",
    "build_encoder",
]
