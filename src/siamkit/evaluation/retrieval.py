"""Retrieval metrics on labelled embeddings (the evaluation issue extends these)."""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.knn import knn_search


def nearest_neighbour(embeddings: Tensor, distance: Distance, chunk_size: int = 1024) -> Tensor:
    """Index ``(N,)`` of each item's nearest other item (itself excluded), in query chunks.

    The one nearest-neighbour search of the package (:func:`knn_search`, FAISS when installed).
    """
    if len(embeddings) < 2:
        raise ValueError("nearest-neighbour retrieval needs at least 2 items")
    nn = knn_search(embeddings, embeddings, 1, distance, exclude_self=True, chunk_size=chunk_size)
    return torch.from_numpy(nn.indices[:, 0]).long()


def precision_at_1(embeddings: Tensor, labels: Tensor, distance: Distance) -> float:
    """Share of items whose nearest other item has the same label (leave-one-out)."""
    nn_idx = nearest_neighbour(embeddings, distance)
    return float((labels[nn_idx] == labels).float().mean())
