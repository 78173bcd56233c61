"""LFW's pairs.txt protocol and 10-fold accuracy, against a hand-written file and plain loops."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from siamkit.apps.faces.lfw import (
    LfwPair,
    LfwProtocol,
    best_threshold,
    image_path,
    k_fold_accuracy,
    read_pairs,
    write_pairs,
)

# 2 folds x 2 pairs of each kind, tabs and spaces mixed as in the published file
PAIRS = """2\t2
Abel_Pacheco\t1\t4
Akhmed_Zakayev  1  3
Abdel_Madi_Shabneh\t1\tDean_Barker\t1
Abdel_Madi_Shabneh\t1\tGiancarlo_Fisichella\t1
Aaron_Peirsol\t1\t2
Aaron_Sorkin\t1\t2

AJ_Cook\t1\tMarsha_Thomason\t1
Aaron_Sorkin\t2\tFrank_Keating\t1
"""


def test_read_pairs_matches_the_hand_written_file(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS)
    p = read_pairs(path)
    assert (p.folds, p.per_fold, len(p.pairs)) == (2, 2, 8)
    assert p.pairs[0] == LfwPair("Abel_Pacheco", 1, "Abel_Pacheco", 4, True, 0)
    assert p.pairs[1] == LfwPair("Akhmed_Zakayev", 1, "Akhmed_Zakayev", 3, True, 0)
    assert p.pairs[2] == LfwPair("Abdel_Madi_Shabneh", 1, "Dean_Barker", 1, False, 0)
    assert p.pairs[7] == LfwPair("Aaron_Sorkin", 2, "Frank_Keating", 1, False, 1)
    assert p.same.tolist() == [True, True, False, False] * 2
    assert p.fold_ids.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert image_path("lfw", "Abel_Pacheco", 4) == Path("lfw/Abel_Pacheco/Abel_Pacheco_0004.jpg")


def test_write_pairs_round_trips(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(PAIRS)
    p = read_pairs(tmp_path / "a.txt")
    assert read_pairs(write_pairs(tmp_path / "b.txt", p)) == p
    shuffled = LfwProtocol(p.folds, p.per_fold, p.pairs[::-1])
    with pytest.raises(ValueError, match="fold by fold"):
        write_pairs(tmp_path / "c.txt", shuffled)


def test_one_number_header_is_one_fold(tmp_path: Path) -> None:
    path = tmp_path / "pairsDevTrain.txt"
    path.write_text("1\nA_B 1 2\nA_B 1 C_D 3\n")
    p = read_pairs(path)
    assert (p.folds, p.per_fold) == (1, 1)
    assert [q.same for q in p.pairs] == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("ten 300\n", "header"),
        ("1 1\nA 1 2\n", "2 lines, the file has 1"),
        ("1 1\nA 1 B 2\nA 1 B 2\n", "same-person pair 'NAME i j'"),
        ("1 1\nA 1 2\nA 1 2\n", "different-person pair 'NAME1 i NAME2 j'"),
        ("1 1\nA 0 2\nA 1 B 2\n", "positive integers"),
    ],
)
def test_bad_pairs_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as e:
        read_pairs(path)
    assert str(path) in str(e.value)


def test_missing_pairs_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        read_pairs(tmp_path / "nope.txt")


def _plain_best_threshold(d: list[float], same: list[bool]) -> float:
    """Every midpoint between distinct sorted distances, one below and one above; the first
    (smallest) threshold with the most correct decisions."""
    u = sorted(set(d))
    candidates = [u[0] - 1.0] + [(u[i] + u[i + 1]) / 2 for i in range(len(u) - 1)] + [u[-1] + 1]
    best_t, best_correct = candidates[0], -1
    for t in candidates:
        correct = sum(1 for x, s in zip(d, same) if (x <= t) == s)
        if correct > best_correct:
            best_t, best_correct = t, correct
    return best_t


def _plain_k_fold(d: list[float], same: list[bool], folds: list[int]) -> list[float]:
    accs = []
    for k in sorted(set(folds)):
        train = [i for i in range(len(d)) if folds[i] != k]
        test = [i for i in range(len(d)) if folds[i] == k]
        t = _plain_best_threshold([d[i] for i in train], [same[i] for i in train])
        accs.append(sum(1 for i in test if (d[i] <= t) == same[i]) / len(test))
    return accs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_k_fold_accuracy_matches_a_plain_loop(seed: int) -> None:
    rng = random.Random(seed)
    folds = [f for f in range(10) for _ in range(12)]
    same = [i % 12 < 6 for i in range(120)]
    # overlapping classes, and rounded values so that ties between distances occur
    d = [round(rng.gauss(0.5 if s else 0.9, 0.25), 1) for s in same]
    result = k_fold_accuracy(np.array(d), np.array(same), np.array(folds))
    expected = _plain_k_fold(d, same, folds)
    assert result.per_fold == pytest.approx(expected)
    assert result.mean == pytest.approx(sum(expected) / 10)
    m = sum(expected) / 10
    std = (sum((a - m) ** 2 for a in expected) / 9) ** 0.5
    assert result.std == pytest.approx(std)
    assert result.standard_error == pytest.approx(std / 10**0.5)
    assert len(result.thresholds) == 10


def test_best_threshold_on_hand_worked_points() -> None:
    # same: 0.1, 0.3; different: 0.2, 0.9. Cutting at 0.15 (accepts 0.1) and at 0.6 (accepts
    # 0.1, 0.2, 0.3) both get 3 of 4 right, cutting at 0.25 only 2: the smaller tie, 0.15, wins
    assert best_threshold([0.1, 0.3, 0.2, 0.9], [True, True, False, False]) == pytest.approx(0.15)
    assert best_threshold([0.1, 0.2, 0.8], [True, True, False]) == pytest.approx(0.5)


def test_k_fold_refuses_one_fold_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="at least 2 folds"):
        k_fold_accuracy([0.1, 0.2], [True, False], [0, 0])
    with pytest.raises(ValueError, match="one length"):
        k_fold_accuracy([0.1, 0.2], [True], [0, 1])
