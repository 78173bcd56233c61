"""ClassBalancedSampler: coverage and P x K batch structure checked with Counter."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from siamkit.data import ClassBalancedSampler
from siamkit.dist import shard_bounds

# Uneven classes: 0 has 11 items, 1 has 3, 2 has 7, 3 has 1, 4 has 6.
LABELS = torch.tensor([0] * 11 + [1] * 3 + [2] * 7 + [3] * 1 + [4] * 6)[
    torch.randperm(28, generator=torch.Generator().manual_seed(0))
]


def _check_structure(labels: list[int], batches: list[list[int]], p: int, k: int) -> None:
    for batch in batches:
        assert len(batch) == p * k
        per_class = Counter(labels[i] for i in batch)
        assert len(per_class) == p, per_class
        assert all(v == k for v in per_class.values()), per_class


@pytest.mark.parametrize(("p", "k"), [(2, 2), (3, 4), (5, 1), (4, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_batches_have_p_classes_of_k_items(p, k, seed):
    sampler = ClassBalancedSampler(LABELS, p, k, seed=seed)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    _check_structure(LABELS.tolist(), batches, p, k)


@pytest.mark.parametrize(("p", "k"), [(2, 2), (3, 4), (5, 1), (2, 7)])
def test_every_item_at_least_once_per_epoch(p, k):
    sampler = ClassBalancedSampler(LABELS, p, k, seed=3)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen = {i for b in sampler for i in b}
        assert seen == set(range(len(LABELS)))


def test_indices_valid():
    sampler = ClassBalancedSampler(LABELS, 3, 2, seed=0)
    for b in sampler:
        assert all(isinstance(i, int) and 0 <= i < len(LABELS) for i in b)


def test_items_within_class_not_repeated_while_queue_lasts():
    # Balanced classes of 6 with K=3: queues split exactly, no topping up, so an epoch is a
    # partition of the items (each exactly once).
    labels = torch.arange(4).repeat_interleave(6)
    sampler = ClassBalancedSampler(labels, 2, 3, seed=5)
    counts = Counter(i for b in sampler for i in b)
    assert set(counts) == set(range(24))
    assert all(v == 1 for v in counts.values())
    assert len(sampler) == 24 // 6


def test_p_capped_at_number_of_classes():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    sampler = ClassBalancedSampler(labels, 10, 2, seed=0)
    assert sampler.p == 3
    batches = list(sampler)
    _check_structure(labels.tolist(), batches, 3, 2)
    assert {i for b in batches for i in b} == set(range(9))


def test_same_seed_same_batches_and_epoch_changes_order():
    a = ClassBalancedSampler(LABELS, 3, 2, seed=4)
    b = ClassBalancedSampler(LABELS, 3, 2, seed=4)
    assert list(a) == list(b)
    epoch0 = list(a)
    assert list(a) == epoch0  # iterating again without set_epoch repeats the epoch
    a.set_epoch(1)
    epoch1 = list(a)
    assert epoch1 != epoch0
    _check_structure(LABELS.tolist(), epoch1, 3, 2)
    a.set_epoch(0)
    assert list(a) == epoch0
    assert list(ClassBalancedSampler(LABELS, 3, 2, seed=5)) != epoch0


def test_small_example_covers_all_items():
    # 3 classes of 2, P=2, K=2: 2 batches of 4 (8 slots for 6 items), every item present.
    for seed in range(5):
        s = ClassBalancedSampler(torch.tensor([0, 0, 1, 1, 2, 2]), 2, 2, seed=seed)
        batches = list(s)
        assert len(batches) == 2
        assert {i for b in batches for i in b} == {0, 1, 2, 3, 4, 5}


def test_no_item_repeated_in_a_batch_when_class_has_k_items():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    for seed in range(5):
        for batch in ClassBalancedSampler(labels, 2, 2, seed=seed):
            # Every class has exactly K=2 members, so K distinct items are always available.
            assert len(set(batch)) == len(batch), (seed, batch)


def test_fewer_than_two_classes_raises():
    with pytest.raises(ValueError, match="at least 2 classes"):
        ClassBalancedSampler(torch.tensor([3, 3, 3, 3]), 2, 2)


@pytest.mark.parametrize(("p", "k"), [(0, 2), (2, 0), (-1, 1)])
def test_bad_sizes_raise(p, k):
    with pytest.raises(ValueError, match=">= 1"):
        ClassBalancedSampler(LABELS, p, k)


def test_works_with_data_loader():
    from torch.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(torch.arange(len(LABELS)), LABELS)
    sampler = ClassBalancedSampler(LABELS, 2, 3, seed=0)
    loader = DataLoader(ds, batch_sampler=sampler)
    batches = list(loader)
    assert len(batches) == len(sampler.batches())
    for (idx, y), expected in zip(batches, sampler.batches()):
        assert idx.tolist() == expected
        assert y.tolist() == [int(LABELS[i]) for i in expected]


# --- several processes (torchrun): each rank's share of every batch, checked by a plain loop


@pytest.mark.parametrize("n", range(0, 11))
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shard_bounds_partition_in_rank_order(n, world):
    shares = [list(range(n))[shard_bounds(n, r, world)] for r in range(world)]
    assert [i for s in shares for i in s] == list(range(n))  # disjoint, rank order, complete
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize(("rank", "world"), [(2, 2), (-1, 2), (0, 0)])
def test_shard_bounds_rejects_bad_ranks(rank, world):
    with pytest.raises(ValueError, match="0 <= rank < num_replicas"):
        shard_bounds(4, rank, world)


@pytest.mark.parametrize(
    ("p", "k", "world"), [(2, 2, 2), (3, 4, 2), (5, 4, 4), (4, 3, 3), (3, 5, 2), (2, 7, 3)]
)
def test_ranks_share_each_batch_by_class(p, k, world):
    labels = LABELS.tolist()
    single = ClassBalancedSampler(LABELS, p, k, seed=7)
    ranks = [
        ClassBalancedSampler(LABELS, p, k, seed=7, num_replicas=world, rank=r) for r in range(world)
    ]
    for epoch in range(3):
        for s in [single, *ranks]:
            s.set_epoch(epoch)
        full = list(single)
        shares = [list(s) for s in ranks]
        assert all(len(s) == len(full) for s in shares)  # same number of steps on every rank
        seen = set()
        for b, batch in enumerate(full):
            parts = [shares[r][b] for r in range(world)]
            # disjoint positions: together exactly the single-process batch
            assert Counter(i for part in parts for i in part) == Counter(batch)
            for r, part in enumerate(parts):  # class-balanced per rank: P classes x its K share
                k_rank = k // world + (1 if r < k % world else 0)
                _check_structure(labels, [part], min(p, 5), k_rank)
                seen |= set(part)
        assert seen == set(range(len(LABELS)))  # every item once per epoch, across ranks
    ranks[0].set_epoch(0)
    epoch0 = list(ranks[0])
    ranks[0].set_epoch(1)
    assert list(ranks[0]) != epoch0  # reshuffled per epoch


def test_fewer_items_per_class_than_processes_names_the_fix():
    with pytest.raises(ValueError, match=r"K=2 items per class is fewer than 3 .*--batch-size"):
        ClassBalancedSampler(LABELS, 2, 2, num_replicas=3, rank=0)
