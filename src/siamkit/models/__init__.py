"""Encoders (image, tabular, text), the twin network, input standardisation and embedding
many items in batches (``embed_all``)."""

from __future__ import annotations

from siamkit.models.conv import ConvEncoder
from siamkit.models.embed import embed_all
from siamkit.models.mlp import MLPEncoder
from siamkit.models.pretrained_image import PretrainedImageEncoder
from siamkit.models.registry import ENCODERS, build_encoder
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.standardize import Standardize
from siamkit.models.text import TextCNNEncoder, TransformerEncoder

__all__ = [
    "ENCODERS",
    "ConvEncoder",
    "MLPEncoder",
    "PretrainedImageEncoder",
    "SiameseNetwork",
    "Standardize",
    "TextCNNEncoder",
    "TransformerEncoder",
    "build_encoder",
    "embed_all",
]
