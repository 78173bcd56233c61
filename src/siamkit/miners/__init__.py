"""Miners: which pairs and triplets of a labelled batch are worth learning from.

A miner reads one ``(B, B)`` distance matrix of a batch (``O(B²)`` memory, never a
``(B, B, B)`` tensor) and returns index tensors into the batch, with a :class:`MinerStats`
summary for the progress bar and the log. Pair miners feed a contrastive loss, triplet
miners a triplet loss. The distance object decides what "closer" means, so every miner
works with distances (smaller = closer) and similarities (larger = closer) alike; margins
and thresholds are in the distance's own units.

False-negative guard (every miner): an item is never its own positive, and two items are
never a negative pair when they share a label or are marked identical in ``inputs_equal``.

Example:
    >>> import torch
    >>> from siamkit.distances import get_distance
    >>> miner = get_miner("batch_hard")
    >>> a, p, n, stats = miner(torch.randn(8, 4), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]),
    ...                        get_distance("euclidean"))
    >>> stats.num_mined  # one triplet per anchor
    8
"""

from __future__ import annotations

from siamkit.miners.base import (
    MINERS,
    MinedPairs,
    MinedTriplets,
    Miner,
    MinerStats,
    PairMiner,
    Relations,
    TripletMiner,
    get_miner,
    miner_names,
    relations,
    resolve_miner,
)
from siamkit.miners.distance_weighted import DistanceWeightedMiner
from siamkit.miners.pairs import HardPairMiner, hard_pairs
from siamkit.miners.triplet import BatchHardMiner, SemiHardMiner

__all__ = [
    "MINERS",
    "BatchHardMiner",
    "DistanceWeightedMiner",
    "HardPairMiner",
    "MinedPairs",
    "MinedTriplets",
    "Miner",
    "MinerStats",
    "PairMiner",
    "Relations",
    "SemiHardMiner",
    "TripletMiner",
    "get_miner",
    "hard_pairs",
    "miner_names",
    "relations",
    "resolve_miner",
]
