"""Retrieval metrics on labelled embeddings (the evaluation issue extends these)."""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.distances import Distance


def nearest_neighbour(embeddings: Tensor, distance: Distance, chunk_size: int = 1024) -> Tensor:
    """Index ``(N,)`` of each item's nearest other item (itself excluded), in row chunks."""
    n = len(embeddings)
    if n < 2:
        raise ValueError("nearest-neighbour retrieval needs at least 2 items")
    out = torch.empty(n, dtype=torch.long)
    worst = float("-inf") if distance.larger_is_closer else float("inf")
    for s in range(0, n, chunk_size):
        block = distance.matrix(embeddings[s : s + chunk_size], embeddings)  # (c, N)
        rows = torch.arange(block.shape[0])
        block[rows, rows + s] = worst
        out[s : s + chunk_size] = distance.closeness(block).argmax(dim=1)
    return out


def precision_at_1(embeddings: Tensor, labels: Tensor, distance: Distance) -> float:
    """Share of items whose nearest other item has the same label (leave-one-out)."""
    nn_idx = nearest_neighbour(embeddings, distance)
    return float((labels[nn_idx] == labels).float().mean())
