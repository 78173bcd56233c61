"""parse_classes and train_val_split, checked against hand-worked class lists and set algebra."""

from __future__ import annotations

import pytest
import torch

from siamkit.data import LabelledData, parse_classes, train_val_split

DIGIT_NAMES = [str(i) for i in range(10)]


# ---------------------------------------------------------------- parse_classes


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("0,2,7", [0, 2, 7]),
        ("0-2,5", [0, 1, 2, 5]),
        (" 3 , 8-9 ", [3, 8, 9]),
        ("7-7", [7]),
        ("all", list(range(10))),
        (" all ", list(range(10))),
        ([1, 3], [1, 3]),
        (["4", 6], [4, 6]),
    ],
)
def test_parse_classes_ranges_and_lists(spec, expected):
    assert parse_classes(spec, DIGIT_NAMES) == expected


def test_parse_classes_deduplicates_keeping_first_order():
    # 2 appears in the list, the range and again; 0 appears twice.
    assert parse_classes("2,0-3,2,0", DIGIT_NAMES) == [2, 0, 1, 3]
    assert parse_classes([5, 5, 1, 5], DIGIT_NAMES) == [5, 1]


def test_parse_classes_by_name():
    names = ["bird", "cat", "dog", "fish"]
    assert parse_classes("cat,dog", names) == [1, 2]
    assert parse_classes("fish,bird", names) == [3, 0]
    # Names and indices can be mixed; a range can be given by names.
    assert parse_classes("cat-fish", names) == [1, 2, 3]
    assert parse_classes("dog,0", names) == [2, 0]
    assert parse_classes("all", names) == [0, 1, 2, 3]


def test_parse_classes_names_containing_dash_are_matched_as_names():
    names = ["T-shirt/top", "Trouser", "Pullover"]
    assert parse_classes("T-shirt/top,Pullover", names) == [0, 2]


def test_parse_classes_names_take_precedence_over_indices():
    # Class named "1" sits at index 0: the token matches the name first.
    names = ["1", "0"]
    assert parse_classes("1", names) == [0]
    assert parse_classes("0", names) == [1]


@pytest.mark.parametrize("spec", ["12", "3,10", "cow", "0-10", [10], [-1]])
def test_parse_classes_absent_class_names_it_and_lists_available(spec):
    names = DIGIT_NAMES
    with pytest.raises(ValueError) as exc:
        parse_classes(spec, names)
    msg = str(exc.value)
    assert "not in the data" in msg
    assert "available classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in msg


def test_parse_classes_absent_name_is_quoted_in_message():
    with pytest.raises(ValueError, match=r"class 'cow' is not in the data") as exc:
        parse_classes("cat,cow", ["cat", "dog"])
    assert "available classes: cat, dog" in str(exc.value)


def test_parse_classes_absent_index_is_named():
    with pytest.raises(ValueError, match=r"class '?12'? is not in the data"):
        parse_classes([12], DIGIT_NAMES)


@pytest.mark.parametrize("spec", ["", "   ", ",", " , ,", []])
def test_parse_classes_empty_spec_raises(spec):
    with pytest.raises(ValueError, match="empty class list"):
        parse_classes(spec, DIGIT_NAMES)


def test_parse_classes_reversed_range_raises():
    with pytest.raises(ValueError, match="empty class range"):
        parse_classes("5-2", DIGIT_NAMES)


# ---------------------------------------------------------------- train_val_split


def _data(counts: list[int]) -> LabelledData:
    """Class c has counts[c] items; labels interleaved so indices are not grouped by class."""
    labels: list[int] = []
    remaining = list(counts)
    while any(remaining):
        for c, r in enumerate(remaining):
            if r:
                labels.append(c)
                remaining[c] -= 1
    y = torch.tensor(labels, dtype=torch.long)
    x = torch.arange(len(labels), dtype=torch.float32).reshape(-1, 1)
    return LabelledData(x, y, [f"c{i}" for i in range(len(counts))], "vector")


def _indices_of(data: LabelledData, classes) -> set[int]:
    return {i for i, c in enumerate(data.y.tolist()) if c in set(classes)}


def test_train_val_split_default_holds_out_last_class_and_fraction():
    counts = [20, 30, 10, 40, 25, 15]
    data = _data(counts)
    train_classes = [0, 1, 2, 3]
    split = train_val_split(data, train_classes, val_fraction=0.1, seed=0)
    assert split.val_classes == [3]

    train, val = set(split.train.tolist()), set(split.val.tolist())
    labels = data.y.tolist()
    # Class 3 held out whole.
    assert {i for i in val if labels[i] == 3} == _indices_of(data, [3])
    assert not {i for i in train if labels[i] == 3}
    # Other training classes: round(n * 0.1) in val, the rest in train.
    for c in (0, 1, 2):
        n_val = sum(1 for i in val if labels[i] == c)
        n_train = sum(1 for i in train if labels[i] == c)
        assert n_val == round(counts[c] * 0.1)
        assert n_train == counts[c] - n_val


def test_train_val_split_default_uses_last_given_class_not_largest():
    data = _data([5, 5, 5, 5, 5])
    split = train_val_split(data, [4, 0, 2])
    assert split.val_classes == [2]
    assert _indices_of(data, [2]) <= set(split.val.tolist())


def test_train_val_split_fewer_than_three_classes_holds_none_out_whole():
    data = _data([10, 10, 10])
    split = train_val_split(data, [0, 1], val_fraction=0.2, seed=1)
    assert split.val_classes == []
    labels = data.y.tolist()
    for c in (0, 1):
        assert sum(1 for i in split.val.tolist() if labels[i] == c) == 2
        assert sum(1 for i in split.train.tolist() if labels[i] == c) == 8


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_train_val_split_disjoint_union_and_never_other_classes(seed):
    counts = [13, 7, 21, 9, 11, 4]
    data = _data(counts)
    train_classes = [1, 2, 4, 5]
    split = train_val_split(data, train_classes, val_fraction=0.25, seed=seed)
    train, val = split.train.tolist(), split.val.tolist()
    # No duplicates within each part, nothing shared.
    assert len(train) == len(set(train))
    assert len(val) == len(set(val))
    assert not set(train) & set(val)
    # Together exactly the items of the training classes.
    assert set(train) | set(val) == _indices_of(data, train_classes)
    # Non-training classes never appear.
    labels = data.y.tolist()
    assert all(labels[i] in train_classes for i in train + val)
    # Returned sorted.
    assert train == sorted(train)
    assert val == sorted(val)


def test_train_val_split_explicit_val_classes():
    data = _data([6, 6, 6, 6])
    split = train_val_split(data, [0, 1, 2, 3], val_classes=[0, 2], val_fraction=0.0)
    assert split.val_classes == [0, 2]
    assert set(split.val.tolist()) == _indices_of(data, [0, 2])
    assert set(split.train.tolist()) == _indices_of(data, [1, 3])


def test_train_val_split_reproducible_with_seed_and_varies_with_seed():
    data = _data([50, 50, 50, 50])
    a = train_val_split(data, [0, 1, 2, 3], val_fraction=0.3, seed=3)
    b = train_val_split(data, [0, 1, 2, 3], val_fraction=0.3, seed=3)
    assert torch.equal(a.train, b.train)
    assert torch.equal(a.val, b.val)
    others = [train_val_split(data, [0, 1, 2, 3], val_fraction=0.3, seed=s) for s in range(4, 8)]
    assert any(not torch.equal(a.val, o.val) for o in others)


def test_train_val_split_val_classes_outside_train_raises():
    data = _data([5, 5, 5, 5])
    with pytest.raises(ValueError, match=r"validation classes \[3\]"):
        train_val_split(data, [0, 1, 2], val_classes=[1, 3])


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_train_val_split_bad_fraction_raises(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(_data([5, 5, 5]), [0, 1, 2], val_fraction=fraction)


def test_train_val_split_all_classes_held_out_raises():
    with pytest.raises(ValueError, match="nothing to train on"):
        train_val_split(_data([5, 5]), [0, 1], val_classes=[0, 1])
