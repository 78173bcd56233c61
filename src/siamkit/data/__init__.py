"""Data: labelled items -> pairs, triplets, class-balanced batches; sources and class splits."""

from __future__ import annotations

from siamkit.data.images import load_image
from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import PairDataset, Pairs, TripletDataset, sample_pairs
from siamkit.data.samplers import ClassBalancedSampler
from siamkit.data.sources import SOURCES, SourceOptions, load_data
from siamkit.data.splits import TrainValSplit, parse_classes, train_val_split

__all__ = [
    "SOURCES",
    "ClassBalancedSampler",
    "LabelledData",
    "PairDataset",
    "Pairs",
    "SourceOptions",
    "TrainValSplit",
    "TripletDataset",
    "load_data",
    "load_image",
    "parse_classes",
    "sample_pairs",
    "train_val_split",
]
