"""ContrastiveLoss against hand-worked 2-D values and a plain Python loop over pairs.

Convention under test: L = (1-Y)·D² + Y·max(0, m-D)², Y = 1 for a DISSIMILAR pair.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import ContrastiveLoss, get_loss


def _dist(name: str, u: list[float], v: list[float]) -> float:
    """Plain-Python reference distances."""
    if name == "euclidean":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(u, v, strict=True)))
    if name == "manhattan":
        return sum(abs(x - y) for x, y in zip(u, v, strict=True))
    if name == "cosine":
        dot = sum(x * y for x, y in zip(u, v, strict=True))
        nu = math.sqrt(sum(x * x for x in u))
        nv = math.sqrt(sum(y * y for y in v))
        return 1.0 - dot / (nu * nv)
    raise AssertionError(name)


def _loop_loss(
    emb: list[list[float]], labels: list[int], margin: float, name: str, reduction: str
) -> float:
    terms = []
    for i in range(len(emb)):
        for j in range(i + 1, len(emb)):
            d = _dist(name, emb[i], emb[j])
            if labels[i] == labels[j]:  # similar, Y = 0
                terms.append(d * d)
            else:  # dissimilar, Y = 1
                terms.append(max(0.0, margin - d) ** 2)
    if not terms:
        return 0.0
    return sum(terms) / len(terms) if reduction == "mean" else sum(terms)


# Hand-worked, margin 2:
#   (0,0)-(3,4), Y=0: D = 5            -> 25
#   (0,0)-(0.3,0.4), Y=1: D = 0.5 < m  -> (2 - 0.5)² = 2.25
#   (0,0)-(3,4), Y=1: D = 5 > m        -> 0
#   (1,1)-(1,2), Y=0: D = 1            -> 1
A = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
B = torch.tensor([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0], [1.0, 2.0]])
Y = torch.tensor([0, 1, 1, 0])
TERMS = [25.0, 2.25, 0.0, 1.0]


def test_pair_loss_hand_worked_none() -> None:
    got = ContrastiveLoss(margin=2.0, reduction="none").pair_loss(A, B, Y)
    assert got.shape == (4,)
    np.testing.assert_allclose(got.numpy(), TERMS, rtol=1e-5, atol=1e-5)


def test_pair_loss_hand_worked_mean_and_sum() -> None:
    mean = ContrastiveLoss(margin=2.0).pair_loss(A, B, Y)
    total = ContrastiveLoss(margin=2.0, reduction="sum").pair_loss(A, B, Y)
    assert mean.dim() == 0 and total.dim() == 0
    assert mean.item() == pytest.approx(sum(TERMS) / 4, rel=1e-5)
    assert total.item() == pytest.approx(sum(TERMS), rel=1e-5)


def test_pair_loss_single_cases() -> None:
    loss = ContrastiveLoss(margin=1.0)
    zero = torch.zeros(1, 2)
    # similar pair at distance 0.6: 0.36; dissimilar at 0.6 with m = 1: (0.4)² = 0.16
    assert loss.pair_loss(zero, torch.tensor([[0.6, 0.0]]), torch.tensor([0])).item() == (
        pytest.approx(0.36, rel=1e-5)
    )
    assert loss.pair_loss(zero, torch.tensor([[0.6, 0.0]]), torch.tensor([1])).item() == (
        pytest.approx(0.16, rel=1e-5)
    )
    # a dissimilar pair exactly at the margin costs nothing
    assert loss.pair_loss(zero, torch.tensor([[0.0, 1.0]]), torch.tensor([1])).item() == (
        pytest.approx(0.0, abs=1e-6)
    )


@pytest.mark.parametrize("labels", [[0, 2], [-1, 0], [0.5, 1.0], [1, 1, 3]])
def test_bad_pair_labels_state_the_convention(labels: list[float]) -> None:
    y = torch.tensor(labels)
    a, b = torch.zeros(len(labels), 2), torch.ones(len(labels), 2)
    with pytest.raises(ValueError, match="Y=1") as err:
        ContrastiveLoss().pair_loss(a, b, y)
    assert "dissimilar" in str(err.value)


def test_float_and_bool_labels_of_0_and_1_are_accepted() -> None:
    loss = ContrastiveLoss(margin=2.0, reduction="none")
    by_int = loss.pair_loss(A, B, Y)
    torch.testing.assert_close(loss.pair_loss(A, B, Y.float()), by_int)
    torch.testing.assert_close(loss.pair_loss(A, B, Y.bool()), by_int)


@pytest.mark.parametrize("margin", [0.0, -1.0])
def test_non_positive_margin_raises(margin: float) -> None:
    with pytest.raises(ValueError, match="margin"):
        ContrastiveLoss(margin=margin)


def test_unknown_reduction_raises() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        ContrastiveLoss(reduction="max")


@pytest.mark.parametrize("name", ["euclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_forward_over_all_pairs_equals_double_loop(name: str, reduction: str) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(9, 3))
    labels = [0, 1, 2, 0, 1, 2, 0, 0, 1]
    margin = 1.5 if name != "cosine" else 0.8
    loss = ContrastiveLoss(margin=margin, distance=name, reduction=reduction)
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    want = _loop_loss(emb.tolist(), labels, margin, name, reduction)
    # both sides of the margin occur among the dissimilar pairs, so the hinge is exercised
    d_neg = [
        _dist(name, emb[i].tolist(), emb[j].tolist())
        for i in range(9)
        for j in range(i + 1, 9)
        if labels[i] != labels[j]
    ]
    assert min(d_neg) < margin < max(d_neg)
    assert got.item() == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_forward_none_reduction_orders_pairs_i_lt_j() -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(5, 2))
    labels = [0, 0, 1, 1, 0]
    got = ContrastiveLoss(margin=2.0, reduction="none")(torch.from_numpy(emb), torch.tensor(labels))
    want = []
    for i in range(5):
        for j in range(i + 1, 5):
            d = _dist("euclidean", emb[i].tolist(), emb[j].tolist())
            want.append(d * d if labels[i] == labels[j] else max(0.0, 2.0 - d) ** 2)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-8)


def test_forward_matches_pair_loss_on_the_same_pairs() -> None:
    rng = np.random.default_rng(2)
    emb = torch.from_numpy(rng.normal(size=(6, 4)))
    labels = torch.tensor([3, 3, 7, 7, 3, 9])
    loss = ContrastiveLoss(margin=3.0)
    i, j = zip(*[(p, q) for p in range(6) for q in range(p + 1, 6)], strict=True)
    i_t, j_t = torch.tensor(i), torch.tensor(j)
    y = (labels[i_t] != labels[j_t]).long()
    torch.testing.assert_close(loss(emb, labels), loss.pair_loss(emb[i_t], emb[j_t], y))


def test_forward_with_a_single_item_gives_a_zero_that_backpropagates() -> None:
    emb = torch.ones(1, 3, requires_grad=True)
    out = ContrastiveLoss()(emb, torch.tensor([0]))
    assert out.item() == 0.0
    assert out.requires_grad
    out.backward()
    assert emb.grad is not None
    assert torch.equal(emb.grad, torch.zeros(1, 3))


def test_pair_loss_gradcheck() -> None:
    # D values 0.5 and 1.2 for dissimilar pairs (margin 2: inside), 3.0 (outside), and a
    # similar pair at D = 1; all away from the kinks at D = 0 and D = m.
    a = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[0.3, 0.4], [1.0, 2.2], [3.0, 1.0], [2.6, 0.8]], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 0])
    for reduction in ("mean", "sum", "none"):
        loss = ContrastiveLoss(margin=2.0, reduction=reduction)
        assert torch.autograd.gradcheck(
            lambda p, q, loss=loss: loss.pair_loss(p, q, y),
            (a.clone().requires_grad_(True), b.clone().requires_grad_(True)),
        )


def test_pair_loss_gradient_matches_hand_derivation() -> None:
    # Y=0: d/da D² = 2(a-b); Y=1 inside the margin: d/da (m-D)² = -2(m-D)(a-b)/D.
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[3.0, 4.0], [0.3, 0.4]], dtype=torch.float64)
    ContrastiveLoss(margin=2.0, reduction="sum").pair_loss(a, b, torch.tensor([0, 1])).backward()
    assert a.grad is not None
    want = np.array([[-6.0, -8.0], [-2 * 1.5 * (-0.3) / 0.5, -2 * 1.5 * (-0.4) / 0.5]])
    np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-9)


def test_forward_gradcheck() -> None:
    rng = np.random.default_rng(3)
    emb = torch.from_numpy(rng.normal(size=(5, 3))).requires_grad_(True)
    labels = torch.tensor([0, 1, 0, 1, 2])
    loss = ContrastiveLoss(margin=2.0)
    assert torch.autograd.gradcheck(lambda e: loss(e, labels), (emb,))


def test_get_loss_builds_contrastive_with_margin_and_distance() -> None:
    loss = get_loss("contrastive", margin=0.7, distance="manhattan")
    assert isinstance(loss, ContrastiveLoss)
    assert loss.margin == 0.7
    assert loss.distance.name == "manhattan"
    assert get_loss("contrastive").distance.name == "euclidean"


def test_mean_nonzero_reduction_averages_only_active_pairs() -> None:
    # Y=0 at D=0.5 -> 0.25; Y=1 at D=2 (beyond m=1) -> 0; Y=1 at D=0.4 -> 0.36
    a = torch.zeros(3, 2, dtype=torch.float64)
    b = torch.tensor([[0.5, 0.0], [2.0, 0.0], [0.0, 0.4]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1])
    got = ContrastiveLoss(margin=1.0, reduction="mean_nonzero").pair_loss(a, b, y)
    assert got.item() == pytest.approx((0.25 + 0.36) / 2)
    mean = ContrastiveLoss(margin=1.0, reduction="mean").pair_loss(a, b, y)
    assert mean.item() == pytest.approx((0.25 + 0.36) / 3)
