"""Response-map labels, balanced weights and the logistic loss against hand-worked values."""

from __future__ import annotations

import math

import torch

from siamkit.apps.tracking.labels import balanced_weights, logistic_loss, response_labels


def test_labels_match_a_plain_loop_with_offsets() -> None:
    size, stride, radius = 9, 4, 8.0
    offsets = torch.tensor([[0.0, 0.0], [6.0, -3.0]])
    got = response_labels(size, stride, radius, offsets)
    assert got.shape == (2, 1, size, size)
    c = (size - 1) / 2
    for b in range(2):
        for i in range(size):
            for j in range(size):
                dx = (j - c) * stride - float(offsets[b, 0])
                dy = (i - c) * stride - float(offsets[b, 1])
                assert got[b, 0, i, j] == float(math.hypot(dx, dy) <= radius)
    # centred: radius 2 cells -> the 13 cells of a discrete disc of radius 2
    assert got[0].sum() == 13
    # the positive region's centre of mass moves with the offset (in cells)
    ii, jj = torch.nonzero(got[1, 0], as_tuple=True)
    assert abs(float(jj.float().mean()) - (c + 6 / 4)) < 0.5
    assert abs(float(ii.float().mean()) - (c - 3 / 4)) < 0.5


def test_balanced_weights_give_each_side_half() -> None:
    labels = response_labels(7, 4, 4.0, batch=2)
    w = balanced_weights(labels)
    for b in range(2):
        pos = labels[b] > 0
        assert torch.isclose(w[b][pos].sum(), torch.tensor(0.5))
        assert torch.isclose(w[b][~pos].sum(), torch.tensor(0.5))
        assert len(torch.unique(w[b][pos])) == 1


def test_logistic_loss_is_the_weighted_mean_of_log_1_plus_exp() -> None:
    labels = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # 1 positive, 3 negatives
    v = torch.tensor([[[[2.0, -1.0], [0.5, 0.0]]]])
    expected = 0.5 * math.log1p(math.exp(-2.0)) + (0.5 / 3) * (
        math.log1p(math.exp(-1.0)) + math.log1p(math.exp(0.5)) + math.log1p(math.exp(0.0))
    )
    assert abs(float(logistic_loss(v, labels)) - expected) < 1e-6
