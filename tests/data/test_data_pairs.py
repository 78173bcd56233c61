"""sample_pairs, PairDataset and TripletDataset checked item by item with plain loops."""

from __future__ import annotations

import pytest
import torch

from siamkit.data import LabelledData, PairDataset, TripletDataset, sample_pairs

LABELS = torch.tensor([2, 0, 1, 0, 2, 2, 1, 0, 3, 3, 1, 2, 0, 3, 1, 1])


def _data(labels: torch.Tensor) -> LabelledData:
    # Item i's features encode its index, so we can recover which items a pair holds.
    x = torch.arange(len(labels), dtype=torch.float32).reshape(-1, 1)
    return LabelledData(x, labels.clone(), [str(c) for c in range(int(labels.max()) + 1)], "vector")


def _check_pairs(labels: list[int], pairs) -> None:
    n = len(labels)
    for a, b, y in zip(pairs.first.tolist(), pairs.second.tolist(), pairs.label.tolist()):
        assert 0 <= a < n
        assert 0 <= b < n
        assert a != b, "an item is paired with itself"
        assert y in (0, 1)
        assert (y == 0) == (labels[a] == labels[b]), (a, b, y)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 101])
def test_sample_pairs_balance_and_labels(n):
    pairs = sample_pairs(LABELS, n, seed=5)
    assert len(pairs.first) == len(pairs.second) == len(pairs.label) == n
    n_similar = sum(1 for y in pairs.label.tolist() if y == 0)
    assert n_similar == round(n * 0.5)
    _check_pairs(LABELS.tolist(), pairs)


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.75, 1.0])
def test_sample_pairs_positive_fraction(fraction):
    n = 50
    pairs = sample_pairs(LABELS, n, positive_fraction=fraction, seed=1)
    n_similar = sum(1 for y in pairs.label.tolist() if y == 0)
    assert n_similar == round(n * fraction)
    assert len(pairs.label) - n_similar == n - round(n * fraction)
    _check_pairs(LABELS.tolist(), pairs)


def test_sample_pairs_fraction_03_hand_counts():
    pairs = sample_pairs(LABELS, 10, positive_fraction=0.3, seed=2)
    assert pairs.label.tolist().count(0) == 3
    assert pairs.label.tolist().count(1) == 7


def test_sample_pairs_docstring_example():
    assert sample_pairs(torch.tensor([0, 0, 1, 1]), 4).label.tolist() == [0, 0, 1, 1]


def test_sample_pairs_reproducible_and_seed_dependent():
    a = sample_pairs(LABELS, 200, seed=11)
    b = sample_pairs(LABELS, 200, seed=11)
    c = sample_pairs(LABELS, 200, seed=12)
    assert torch.equal(a.first, b.first)
    assert torch.equal(a.second, b.second)
    assert torch.equal(a.label, b.label)
    assert not (torch.equal(a.first, c.first) and torch.equal(a.second, c.second))


def test_sample_pairs_uses_many_different_items():
    # 400 pairs over 16 items: every item should turn up somewhere (a draw missing one has
    # probability far below 1e-9 under uniform sampling).
    pairs = sample_pairs(LABELS, 400, seed=0)
    used = set(pairs.first.tolist()) | set(pairs.second.tolist())
    assert used == set(range(len(LABELS)))


def test_sample_pairs_singleton_class_never_in_similar_pair():
    # Class 4 has one item (index 5): it can appear only in dissimilar pairs.
    labels = torch.tensor([0, 0, 1, 1, 1, 4, 2, 2])
    pairs = sample_pairs(labels, 300, seed=3)
    _check_pairs(labels.tolist(), pairs)
    for a, b, y in zip(pairs.first.tolist(), pairs.second.tolist(), pairs.label.tolist()):
        if y == 0:
            assert 5 not in (a, b)
    # It does take part in dissimilar pairs (300 draws, 150 negatives each side ~1/8).
    neg_items = {
        i
        for a, b, y in zip(pairs.first.tolist(), pairs.second.tolist(), pairs.label.tolist())
        if y == 1
        for i in (a, b)
    }
    assert 5 in neg_items


def test_sample_pairs_unsorted_noncontiguous_labels():
    labels = torch.tensor([7, 3, 7, 9, 3, 9, 9, 7])
    pairs = sample_pairs(labels, 100, seed=9)
    _check_pairs(labels.tolist(), pairs)


def test_sample_pairs_only_one_class_raises_for_negatives():
    labels = torch.tensor([4, 4, 4, 4])
    with pytest.raises(ValueError, match="only one class"):
        sample_pairs(labels, 10)
    # All-similar pairs are still possible.
    pairs = sample_pairs(labels, 10, positive_fraction=1.0)
    _check_pairs(labels.tolist(), pairs)
    assert pairs.label.tolist() == [0] * 10


def test_sample_pairs_no_class_with_two_items_raises_for_positives():
    with pytest.raises(ValueError, match="no class has 2 or more items"):
        sample_pairs(torch.tensor([0, 1, 2]), 4)
    pairs = sample_pairs(torch.tensor([0, 1, 2]), 4, positive_fraction=0.0)
    _check_pairs([0, 1, 2], pairs)


@pytest.mark.parametrize(("n", "frac"), [(0, 0.5), (-3, 0.5), (5, -0.1), (5, 1.1)])
def test_sample_pairs_bad_arguments(n, frac):
    with pytest.raises(ValueError):
        sample_pairs(LABELS, n, positive_fraction=frac)


# ---------------------------------------------------------------- PairDataset


def test_pair_dataset_items_match_labels():
    data = _data(LABELS)
    ds = PairDataset(data, seed=4)
    assert len(ds) == len(LABELS)
    labels = LABELS.tolist()
    n_similar = 0
    for k in range(len(ds)):
        x1, x2, y = ds[k]
        i, j = int(x1.item()), int(x2.item())
        assert i != j
        assert (int(y) == 0) == (labels[i] == labels[j])
        n_similar += int(y) == 0
    assert n_similar == round(len(LABELS) * 0.5)


def test_pair_dataset_num_pairs_and_fraction():
    ds = PairDataset(_data(LABELS), positive_fraction=0.3, num_pairs=40, seed=0)
    assert len(ds) == 40
    assert sum(1 for k in range(40) if int(ds[k][2]) == 0) == 12


def _pair_list(ds: PairDataset) -> list[tuple[int, int, int]]:
    return [(int(a.item()), int(b.item()), int(y)) for a, b, y in (ds[k] for k in range(len(ds)))]


def test_pair_dataset_reproducible_and_epoch_dependent():
    data = _data(LABELS)
    a = PairDataset(data, num_pairs=64, seed=1)
    b = PairDataset(data, num_pairs=64, seed=1)
    assert _pair_list(a) == _pair_list(b)
    epoch0 = _pair_list(a)
    a.set_epoch(1)
    epoch1 = _pair_list(a)
    assert epoch1 != epoch0
    a.set_epoch(0)
    assert _pair_list(a) == epoch0
    c = PairDataset(data, num_pairs=64, seed=2)
    assert _pair_list(c) != epoch0


# ---------------------------------------------------------------- TripletDataset


def _triplets(ds: TripletDataset) -> list[tuple[int, int, int]]:
    return [
        (int(a.item()), int(p.item()), int(n.item())) for a, p, n in (ds[k] for k in range(len(ds)))
    ]


def test_triplets_valid():
    labels = LABELS.tolist()
    ds = TripletDataset(_data(LABELS), num_triplets=200, seed=3)
    assert len(ds) == 200
    for a, p, n in _triplets(ds):
        assert a != p
        assert labels[a] == labels[p]
        assert labels[n] != labels[a]


def test_triplets_singleton_class_never_anchor_or_positive():
    labels = torch.tensor([0, 0, 1, 1, 1, 4, 2, 2])
    ds = TripletDataset(_data(labels), num_triplets=200, seed=0)
    for a, p, n in _triplets(ds):
        assert 5 not in (a, p)
        assert labels[n] != labels[a]


def test_triplets_default_count_and_reproducible():
    data = _data(LABELS)
    a = TripletDataset(data, seed=7)
    b = TripletDataset(data, seed=7)
    assert len(a) == len(LABELS)
    assert _triplets(a) == _triplets(b)
    first = _triplets(a)
    a.set_epoch(1)
    assert _triplets(a) != first
    assert _triplets(TripletDataset(data, seed=8)) != first


def test_triplets_one_class_raises():
    with pytest.raises(ValueError, match="only one class"):
        TripletDataset(_data(torch.tensor([0, 0, 0])))
