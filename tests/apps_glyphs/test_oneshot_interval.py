"""Episode accuracy and its 95 % interval against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from siamkit.apps.omniglot.oneshot import episode_accuracies, mean_ci95
from siamkit.distances import get_distance
from siamkit.evaluation.few_shot import Episode

# Five items on a line: class 0 at 0.0 and 0.1, class 1 at 1.0 and 1.2, class 2 at 0.6.
EMB = torch.tensor([[0.0], [0.1], [1.0], [1.2], [0.6]])


def _episode(support: list[int], query: list[int], target: list[int]) -> Episode:
    return Episode(
        classes=torch.arange(len(support)),
        support=torch.tensor(support).unsqueeze(1),
        query=torch.tensor(query),
        query_target=torch.tensor(target),
    )


def test_episode_accuracy_and_interval_by_hand():
    episodes = [
        # supports 0.0 (class 0), 1.0 (class 1); queries 0.1 -> 0 right, 1.2 -> 1 right: 1.0
        _episode([0, 2], [1, 3], [0, 1]),
        # supports 0.1 (class 0), 1.2 (class 1); query 0.6 truly class 1: |0.5| < |0.6| -> 0
        # wrong; query 1.0 -> class 1 right: 0.5
        _episode([1, 3], [4, 2], [1, 1]),
        # supports 1.0 (class 0), 0.0 (class 1); queries 1.2 (target 1) and 0.1 (target 0):
        # both wrong: 0.0
        _episode([2, 0], [3, 1], [1, 0]),
    ]
    acc = episode_accuracies(EMB, episodes, get_distance("euclidean"))
    assert acc.tolist() == [1.0, 0.5, 0.0]
    mean, ci = mean_ci95(acc)
    # mean 0.5; population std sqrt(((0.5)² + 0² + (0.5)²) / 3) = sqrt(1/6);
    # half-width 1.96 · sqrt(1/6) / sqrt(3) = 1.96 / sqrt(18)
    assert mean == pytest.approx(0.5)
    assert ci == pytest.approx(1.96 / math.sqrt(18))


def test_a_single_episode_has_no_spread_and_no_episode_is_an_error():
    assert mean_ci95(torch.tensor([0.75])) == (0.75, 0.0)
    with pytest.raises(ValueError, match="no episode"):
        mean_ci95(torch.tensor([]))
