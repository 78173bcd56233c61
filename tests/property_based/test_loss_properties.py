"""Properties of the losses on random embeddings and labels.

Every registered loss is finite and non-negative and, being a mean, unchanged when the batch
is permuted (labels permuted alike). The contrastive and triplet losses equal a plain loop over
the pairs and triplets of the batch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from siamkit.losses import LOSSES, ContrastiveLoss, TripletLoss, get_loss

NUM_CLASSES = 4
SQRT_FLOOR = 1e-12  # the Euclidean distance's floor under D², as the loop writes it


@st.composite
def batches(
    draw: st.DrawFn, dtype: type = np.float64, max_size: int = 8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings ``(B, D)`` and labels ``(B,)`` in ``[0, NUM_CLASSES)``, small."""
    b = draw(st.integers(2, max_size))
    d = draw(st.integers(1, 4))
    width = 32 if dtype == np.float32 else 64
    x = draw(arrays(dtype, (b, d), elements=st.floats(-5.0, 5.0, width=width)))
    y = draw(arrays(np.int64, (b,), elements=st.integers(0, NUM_CLASSES - 1)))
    return torch.from_numpy(x), torch.from_numpy(y)


def _build(name: str, dim: int) -> nn.Module:
    """The registered loss ``name`` with its defaults (sized for ``dim`` where it learns)."""
    torch.manual_seed(0)  # the learned losses' initial weights
    if name == "arcface":
        return get_loss(name, num_classes=NUM_CLASSES, embedding_dim=dim)
    if name == "koch":
        return get_loss(name, embedding_dim=dim)
    return get_loss(name)


def _forward(loss: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return loss.to(x.dtype)(x, y)


@pytest.mark.parametrize("name", LOSSES.names())
@settings(max_examples=15)
@given(batch=batches(np.float32))
def test_every_loss_is_finite_and_nonnegative(
    name: str, batch: tuple[torch.Tensor, torch.Tensor]
) -> None:
    x, y = batch
    x.requires_grad_(True)
    value = _forward(_build(name, x.shape[1]), x, y)
    assert value.shape == ()
    assert math.isfinite(float(value.detach())) and float(value.detach()) >= 0.0
    value.backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


@pytest.mark.parametrize("name", LOSSES.names())
@settings(max_examples=15)
@given(batch=batches(), data=st.data())
def test_every_loss_is_invariant_to_permuting_the_batch(
    name: str, batch: tuple[torch.Tensor, torch.Tensor], data: st.DataObject
) -> None:
    x, y = batch
    order = torch.tensor(data.draw(st.permutations(range(len(y)))))
    loss = _build(name, x.shape[1])
    got = _forward(loss, x[order], y[order])
    torch.testing.assert_close(got, _forward(loss, x, y), rtol=1e-9, atol=1e-9)


def _euclidean(u: list[float], v: list[float]) -> float:
    return math.sqrt(max(sum((a - b) ** 2 for a, b in zip(u, v)), SQRT_FLOOR))


def _squared(u: list[float], v: list[float]) -> float:
    return sum((a - b) ** 2 for a, b in zip(u, v))


@given(batch=batches(), margin=st.floats(0.1, 5.0))
def test_contrastive_over_a_batch_equals_the_loop(
    batch: tuple[torch.Tensor, torch.Tensor], margin: float
) -> None:
    """``(1-Y)·D² + Y·max(0, m-D)²`` over the pairs i < j, Y = 1 where the labels differ."""
    x, y = batch
    rows, labels = x.tolist(), y.tolist()
    want = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            d = _euclidean(rows[i], rows[j])
            dissimilar = labels[i] != labels[j]
            want.append(max(0.0, margin - d) ** 2 if dissimilar else d**2)
    got = ContrastiveLoss(margin=margin, reduction="none")(x, y)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
    mean = ContrastiveLoss(margin=margin)(x, y)
    assert float(mean) == pytest.approx(sum(want) / len(want), rel=1e-9, abs=1e-12)


@given(batch=batches(), margin=st.floats(0.1, 5.0), data=st.data())
def test_contrastive_pair_loss_equals_the_loop(
    batch: tuple[torch.Tensor, torch.Tensor], margin: float, data: st.DataObject
) -> None:
    x, _ = batch
    b = data.draw(arrays(np.float64, x.shape, elements=st.floats(-5.0, 5.0)))
    same = data.draw(arrays(np.int64, (len(x),), elements=st.integers(0, 1)))  # 1 = dissimilar
    want = [
        max(0.0, margin - _euclidean(u, v)) ** 2 if s else _euclidean(u, v) ** 2
        for u, v, s in zip(x.tolist(), b.tolist(), same.tolist())
    ]
    loss = ContrastiveLoss(margin=margin, reduction="none")
    got = loss.pair_loss(x, torch.from_numpy(b), torch.from_numpy(same))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)


@given(batch=batches(), margin=st.floats(0.0, 5.0))
def test_triplet_over_a_batch_equals_the_loop(
    batch: tuple[torch.Tensor, torch.Tensor], margin: float
) -> None:
    """``max(‖a-p‖² - ‖a-n‖² + m, 0)`` over every (a, p, n), y_a == y_p != y_n, a != p, in
    (a, p, n) order."""
    x, y = batch
    rows, labels = x.tolist(), y.tolist()
    b = len(rows)
    want = [
        max(_squared(rows[a], rows[p]) - _squared(rows[a], rows[n]) + margin, 0.0)
        for a in range(b)
        for p in range(b)
        for n in range(b)
        if a != p and labels[a] == labels[p] != labels[n]
    ]
    got = TripletLoss(margin=margin, reduction="none", anchor_chunk=3)(x, y)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
    mean = float(TripletLoss(margin=margin)(x, y))
    assert mean == pytest.approx(sum(want) / len(want) if want else 0.0, rel=1e-9, abs=1e-12)


@given(batch=batches(), margin=st.floats(0.0, 5.0), data=st.data())
def test_triplet_loss_of_aligned_triplets_equals_the_loop(
    batch: tuple[torch.Tensor, torch.Tensor], margin: float, data: st.DataObject
) -> None:
    a, _ = batch
    p = data.draw(arrays(np.float64, a.shape, elements=st.floats(-5.0, 5.0)))
    n = data.draw(arrays(np.float64, a.shape, elements=st.floats(-5.0, 5.0)))
    want = [
        max(_squared(u, v) - _squared(u, w) + margin, 0.0)
        for u, v, w in zip(a.tolist(), p.tolist(), n.tolist())
    ]
    loss = TripletLoss(margin=margin, reduction="none")
    got = loss.triplet_loss(a, torch.from_numpy(p), torch.from_numpy(n))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
