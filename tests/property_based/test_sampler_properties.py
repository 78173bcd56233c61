"""Properties of the class-balanced P×K sampler on random label sets, as its docstring states:
every batch holds P classes × K items, every item appears each epoch, indices are in range,
a class repeats items only when it has fewer than K, and the processes' shares of a batch are
disjoint and together the whole batch."""

from __future__ import annotations

from collections import Counter

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from siamkit.data.samplers import ClassBalancedSampler

labels_lists = st.lists(st.integers(0, 6), min_size=2, max_size=30)


@given(
    labels=labels_lists,
    p=st.integers(1, 5),
    k=st.integers(1, 4),
    seed=st.integers(0, 3),
    epoch=st.integers(0, 3),
)
def test_every_batch_is_p_classes_of_k_items_and_every_item_appears(
    labels: list[int], p: int, k: int, seed: int, epoch: int
) -> None:
    assume(len(set(labels)) >= 2)
    s = ClassBalancedSampler(torch.tensor(labels), p, k, seed=seed)
    s.set_epoch(epoch)
    batches = list(s)
    classes = sorted(set(labels))
    want_p = min(p, len(classes))
    size = Counter(labels)
    assert len(s) == len(batches) >= 1
    for batch in batches:
        assert len(batch) == want_p * k
        assert all(0 <= i < len(labels) for i in batch)
        blocks = [batch[c : c + k] for c in range(0, len(batch), k)]
        block_labels = [{labels[i] for i in block} for block in blocks]
        assert all(len(b) == 1 for b in block_labels), "each K block is one class"
        assert len({next(iter(b)) for b in block_labels}) == want_p, "P distinct classes"
        for block in blocks:
            if size[labels[block[0]]] >= k:
                assert len(set(block)) == k, "no repeats in a class of K items or more"
    seen = {i for b in batches for i in b}
    assert seen == set(range(len(labels))), "every item at least once per epoch"
    s2 = ClassBalancedSampler(torch.tensor(labels), p, k, seed=seed)
    s2.set_epoch(epoch)
    assert list(s2) == batches, "same seed and epoch, same batches"


@given(
    labels=labels_lists,
    p=st.integers(1, 4),
    k=st.integers(1, 5),
    replicas=st.integers(1, 4),
    seed=st.integers(0, 3),
)
def test_process_shares_are_disjoint_and_make_the_batch(
    labels: list[int], p: int, k: int, replicas: int, seed: int
) -> None:
    assume(len(set(labels)) >= 2 and k >= replicas)
    shares = [
        ClassBalancedSampler(torch.tensor(labels), p, k, seed, replicas, rank).batches()
        for rank in range(replicas)
    ]
    full = ClassBalancedSampler(torch.tensor(labels), p, k, seed).batches()
    assert all(len(share) == len(full) for share in shares)
    for b, batch in enumerate(full):
        parts = [share[b] for share in shares]
        # positions, not values (a small class repeats items): the shares' multisets add up
        assert Counter(i for part in parts for i in part) == Counter(batch)
        want_classes = {labels[i] for i in batch}
        for part in parts:
            assert {labels[i] for i in part} == want_classes, "every share holds every class"
