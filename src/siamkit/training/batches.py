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
        if config.class_weighting == "inverse_frequency":
            order = reweighted_order(data.y, g)
        else:
            order = torch.randperm(len(data), generator=g)
        if data.kind == "text":  # texts of like length together: less padding to compute
            order = length_bucketed(
                order, token_lengths(data.x, config.encoder), config.batch_size, g
            )
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
    if data.kind == "text":
        lengths = token_lengths(data.x, config.encoder)
        longer = torch.maximum(lengths[pairs.pairs.first], lengths[pairs.pairs.second])  # (K,)
        order = length_bucketed(order, longer, config.batch_size, g)
    out = []
    for i in range(0, len(pairs), config.batch_size):
        k = order[i : i + config.batch_size]
        both = torch.cat([pairs.pairs.first[k], pairs.pairs.second[k]])
        out.append((data.x[both], None, pairs.pairs.label[k]))
    return out


def reweighted_order(labels: Tensor, g: torch.Generator) -> Tensor:
    """One epoch of item indices ``(N,)`` drawn with replacement, each item with probability
    ∝ 1 / (its class's size): every class is drawn equally often on average, whatever its size
    (per-class reweighting by sampling; items of small classes recur within the epoch)."""
    _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    weights = 1.0 / counts.to(torch.float64)[inverse]  # (N,)
    return torch.multinomial(weights, len(labels), replacement=True, generator=g)


BUCKET_BATCHES = 50  # batches per length bucket: sorted within, shuffled between


def token_lengths(ids: Tensor, encoder: str) -> Tensor:
    """``(N,)`` real tokens in each right-padded id row ``(N, L)`` of a text encoder's data."""
    from siamkit.models.text_tokenizer import load_tokenizer, text_tokenizer_name

    name = text_tokenizer_name(encoder)
    if name is None:
        raise ValueError(f"encoder {encoder} is not a text encoder; text data needs one")
    return (ids != load_tokenizer(name).pad_id).sum(dim=1)  # (N,)


def length_bucketed(order: Tensor, lengths: Tensor, batch_size: int, g: torch.Generator) -> Tensor:
    """Reorder a shuffled ``order`` so each batch holds texts of like length.

    The order is cut into buckets of ``BUCKET_BATCHES`` batches; each bucket is sorted by
    ``lengths[order]`` and cut into batches, and the batches of all buckets are shuffled, so
    batches stay random while a batch pads to nearly its own length (the encoder trims the
    padding no row uses).

    Returns:
        A permutation of ``order`` ``(N,)`` whose consecutive ``batch_size`` slices are the
        batches.
    """
    span = batch_size * BUCKET_BATCHES
    chunks: list[Tensor] = []
    for i in range(0, len(order), span):
        bucket = order[i : i + span]
        bucket = bucket[torch.argsort(lengths[bucket], stable=True)]
        chunks += list(bucket.split(batch_size))
    full = [c for c in chunks if len(c) == batch_size]
    short = [c for c in chunks if len(c) != batch_size]  # only the last bucket's: kept last
    perm = torch.randperm(len(full), generator=g).tolist()
    return torch.cat([full[k] for k in perm] + short) if chunks else order
