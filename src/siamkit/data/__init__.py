"""Data: labelled items -> pairs, triplets, class-balanced batches; sources and class splits.

The public names below are imported on first use (PEP 562): the source registry
(:mod:`siamkit.data.registry`) is torch-free, so a plugin registering its sources, or a command
listing them, does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siamkit.lazy import Exports, exported_names, lazy_export

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

# submodule -> the public names imported from it on first access
_EXPORTS: Exports = {
    "images": ("load_image",),
    "labelled": ("LabelledData",),
    "pairs": (
        "PairDataset",
        "Pairs",
        "TripletDataset",
        "sample_pairs",
    ),
    "registry": (
        "SOURCES",
        "get_source",
        "register_lazy_source",
        "register_source",
        "source_kind",
        "source_names",
    ),
    "samplers": ("ClassBalancedSampler",),
    "sources": (
        "SourceOptions",
        "load_data",
    ),
    "splits": (
        "TrainValSplit",
        "parse_classes",
        "train_val_split",
    ),
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
    """Import a public name from its submodule on first access, then keep it here."""
    return lazy_export(__name__, _EXPORTS, name)


def __dir__() -> list[str]:
    """Module attributes, the lazily imported public names included."""
    return sorted({*globals(), *exported_names(_EXPORTS)})
