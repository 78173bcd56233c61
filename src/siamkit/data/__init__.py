"""Data: labelled items -> pairs, triplets, class-balanced batches; sources and class splits."""

from __future__ import annotations

from siamkit.data.images import load_image
from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import PairDataset, Pairs, TripletDataset, sample_pairs
from siamkit.data.samplers import ClassBalancedSampler
from siamkit.data.sources import (
    SOURCES,
    SourceOptions,
    get_source,
    load_data,
    register_lazy_source,
    register_source,
    source_kind,
    source_names,
)
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
    "get_source",
    "load_data",
    "load_image",
    "parse_classes",
    "register_lazy_source",
    "register_source",
    "sample_pairs",
    "source_kind",
    "source_names",
    "train_val_split",
]
