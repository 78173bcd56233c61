"""The batches of one training epoch, for each sampling mode (P×K, pairs, triplets, random,
self-supervised), reproducible from the seed and the epoch."""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import PairDataset, TripletDataset
from siamkit.data.samplers import ClassBalancedSampler
from siamkit.training.config import TrainConfig

Batch = tuple[Tensor, Tensor | None, Tensor | None]  # (items, labels or None, pair labels or None)


def epoch_batches(config: TrainConfig, data: LabelledData, epoch: int) -> list[Batch]:
    """The epoch's batches: items to embed, with class labels (balanced) or pair labels."""
    seed = config.seed
    if config.self_supervised:  # labels unused: random items, two views each in the loop
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(data), generator=g)
        half = max(2, config.batch_size // 2)
        return [(data.x[order[i : i + half]], None, None) for i in range(0, len(data), half)]
    if config.sampling == "random":  # plain random batches, whatever the class sizes
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(data), generator=g)
        return [
            (
                data.x[order[i : i + config.batch_size]],
                data.y[order[i : i + config.batch_size]],
                None,
            )
            for i in range(0, len(data), config.batch_size)
        ]
    if config.sampling == "balanced":
        n_classes = len(torch.unique(data.y))
        p = config.classes_per_batch or min(n_classes, config.batch_size // 2)
        sampler = ClassBalancedSampler(
            data.y, p, max(1, config.batch_size // min(p, n_classes)), seed
        )
        sampler.set_epoch(epoch)
        out: list[Batch] = []
        for idx in sampler:
            t = torch.tensor(idx)
            out.append((data.x[t], data.y[t], None))
        return out
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    if config.loss == "triplet":
        tri = TripletDataset(data, seed=seed)
        tri.set_epoch(epoch)
        order = torch.randperm(len(tri), generator=g)
        return [
            (data.x[tri.triplets[order[i : i + config.batch_size]].T.flatten()], None, None)
            for i in range(0, len(tri), config.batch_size)
        ]
    pairs = PairDataset(data, config.positive_fraction, seed=seed)
    pairs.set_epoch(epoch)
    order = torch.randperm(len(pairs), generator=g)
    out = []
    for i in range(0, len(pairs), config.batch_size):
        k = order[i : i + config.batch_size]
        both = torch.cat([pairs.pairs.first[k], pairs.pairs.second[k]])
        out.append((data.x[both], None, pairs.pairs.label[k]))
    return out
