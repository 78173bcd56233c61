"""Data: labelled items -> pairs, triplets, class-balanced batches; sources and class splits.

The public names below are imported on first use (PEP 562): the source registry
(:mod:`siamkit.data.registry`) is torch-free, so a plugin registering its sources, or a command
listing them, does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siamkit.data.images import load_image
    from siamkit.data.labelled import LabelledData
    from siamkit.data.pairs import PairDataset, Pairs, TripletDataset, sample_pairs
    from siamkit.data.registry import (
        SOURCES,
        get_source,
        register_lazy_source,
        register_source,
        source_kind,
        source_names,
    )
    from siamkit.data.samplers import ClassBalancedSampler
    from siamkit.data.sources import SourceOptions, load_data
    from siamkit.data.splits import TrainValSplit, parse_classes, train_val_split

# public name -> the module it is imported from on first access
_LAZY: dict[str, str] = {
    "load_image": "siamkit.data.images",
    "LabelledData": "siamkit.data.labelled",
    "PairDataset": "siamkit.data.pairs",
    "Pairs": "siamkit.data.pairs",
    "TripletDataset": "siamkit.data.pairs",
    "sample_pairs": "siamkit.data.pairs",
    "SOURCES": "siamkit.data.registry",
    "get_source": "siamkit.data.registry",
    "register_lazy_source": "siamkit.data.registry",
    "register_source": "siamkit.data.registry",
    "source_kind": "siamkit.data.registry",
    "source_names": "siamkit.data.registry",
    "ClassBalancedSampler": "siamkit.data.samplers",
    "SourceOptions": "siamkit.data.sources",
    "load_data": "siamkit.data.sources",
    "TrainValSplit": "siamkit.data.splits",
    "parse_classes": "siamkit.data.splits",
    "train_val_split": "siamkit.data.splits",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access, then keep it here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siamkit.data' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes, the lazily imported public names included."""
    return sorted({*globals(), *_LAZY})
