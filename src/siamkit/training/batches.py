"""The batches of one training epoch, for each sampling mode (P×K, pairs, triplets, random,
self-supervised), reproducible from the seed and the epoch.

With several processes (``torchrun``), every process draws the same global batches a single
process would and keeps only its share (P×K batches: all P classes, about K / processes
items of each; other batches: a contiguous run of items, pairs or triplets, see
:func:`~siamkit.dist.shard_bounds`), so the shares are disjoint and together cover
the epoch exactly as one process does.
"""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import PairDataset, TripletDataset
from siamkit.data.samplers import ClassBalancedSampler
from siamkit.dist import shard_bounds
from siamkit.models.text_tokenizer import load_tokenizer, text_tokenizer_name
from siamkit.run.config import TrainConfig

# (items, labels or None, pair labels or None, roles or None): roles (0 anchor, 1 response)
# come with labelled batches of data that has them (text-pairs)
Batch = tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]


def epoch_batches(
    config: TrainConfig, data: LabelledData, epoch: int, rank: int = 0, world_size: int = 1
) -> list[Batch]:
    """The epoch's batches: items to embed, with class labels (balanced, random) or pair labels,
    and each item's role in its pair where the data has roles.

    Args:
        config: The run's settings (sampling mode, batch size, seed).
        data: The training items.
        epoch: 0-based epoch; each epoch reshuffles.
        rank: This process's rank under ``torchrun``.
        world_size: Processes sharing each batch; this one gets share ``rank`` of each batch.
            A global batch smaller than ``world_size`` (an epoch's short last batch) is left
            out, so no process gets an empty share.
    """
    seed = config.seed

    def share(units: Tensor) -> Tensor | None:  # this rank's items / pairs / triplets
        if world_size == 1:
            return units
        if len(units) < world_size:
            return None
        return units[shard_bounds(len(units), rank, world_size)]

    if config.self_supervised:  # labels unused: random items, two views each in the loop
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(data), generator=g)
        half = max(2, config.batch_size // 2)
        chunks = [share(order[i : i + half]) for i in range(0, len(data), half)]
        return [(data.x[c], None, None, None) for c in chunks if c is not None]

    def roles(idx: Tensor) -> Tensor | None:
        return None if data.roles is None else data.roles[idx]

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
        chunks = [
            share(order[i : i + config.batch_size]) for i in range(0, len(data), config.batch_size)
        ]
        return [(data.x[c], data.y[c], None, roles(c)) for c in chunks if c is not None]
    if config.sampling == "balanced":
        n_classes = len(torch.unique(data.y))
        p = config.classes_per_batch or min(n_classes, config.batch_size // 2)
        k = max(1, config.batch_size // min(p, n_classes))
        sampler = ClassBalancedSampler(data.y, p, k, seed, world_size, rank)
        sampler.set_epoch(epoch)
        out: list[Batch] = []
        for idx in sampler:
            t = torch.tensor(idx)
            out.append((data.x[t], data.y[t], None, roles(t)))
        return out
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    if config.loss == "triplet":
        tri = TripletDataset(data, seed=seed)
        tri.set_epoch(epoch)
        order = torch.randperm(len(tri), generator=g)
        chunks = [
            share(order[i : i + config.batch_size]) for i in range(0, len(tri), config.batch_size)
        ]
        return [
            (data.x[tri.triplets[c].T.flatten()], None, None, None) for c in chunks if c is not None
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
        units = share(order[i : i + config.batch_size])
        if units is None:
            continue
        both = torch.cat([pairs.pairs.first[units], pairs.pairs.second[units]])
        out.append((data.x[both], None, pairs.pairs.label[units], None))
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
