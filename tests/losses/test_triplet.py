"""TripletLoss against hand-worked 2-D values and a plain Python triple loop.

Formula under test: L = max(‖A-P‖² - ‖A-N‖² + m, 0), squared Euclidean by default.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import TripletLoss, get_loss


def _sq(u: list[float], v: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(u, v, strict=True))


def _loop_terms(emb: list[list[float]], labels: list[int], margin: float) -> list[float]:
    """Every valid (a, p, n) in (anchor, positive, negative) order."""
    terms = []
    for a in range(len(emb)):
        for p in range(len(emb)):
            if p == a or labels[p] != labels[a]:
                continue
            for n in range(len(emb)):
                if labels[n] == labels[a]:
                    continue
                terms.append(max(_sq(emb[a], emb[p]) - _sq(emb[a], emb[n]) + margin, 0.0))
    return terms


# Hand-worked, margin 1:
#   A=(0,0) P=(1,0) N=(0,2): 1 - 4 + 1 = -2 -> 0 (inactive)
#   A=(0,0) P=(2,0) N=(1,1): 4 - 2 + 1 = 3
#   A=(0,0) P=(1,1) N=(1,0): 2 - 1 + 1 = 2
ANC = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
POS = torch.tensor([[1.0, 0.0], [2.0, 0.0], [1.0, 1.0]])
NEG = torch.tensor([[0.0, 2.0], [1.0, 1.0], [1.0, 0.0]])
TERMS = [0.0, 3.0, 2.0]


def test_triplet_loss_hand_worked() -> None:
    none = TripletLoss(margin=1.0, reduction="none").triplet_loss(ANC, POS, NEG)
    np.testing.assert_allclose(none.numpy(), TERMS, atol=1e-6)
    mean = TripletLoss(margin=1.0).triplet_loss(ANC, POS, NEG)
    total = TripletLoss(margin=1.0, reduction="sum").triplet_loss(ANC, POS, NEG)
    assert mean.item() == pytest.approx(5.0 / 3.0, rel=1e-6)
    assert total.item() == pytest.approx(5.0, rel=1e-6)


def test_triplet_loss_docstring_case_and_inactive() -> None:
    loss = TripletLoss(margin=1.0)
    a, p, n = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert loss.triplet_loss(a, p, n).item() == pytest.approx(1.0)  # 1 - 1 + 1
    # negative far away: 1 - 9 + 1 < 0 -> 0
    assert loss.triplet_loss(a, p, torch.tensor([[0.0, 3.0]])).item() == 0.0


def test_triplet_loss_with_euclidean_distance() -> None:
    # A=(0,0) P=(3,4) N=(0,1): 5 - 1 + 0.5 = 4.5
    loss = TripletLoss(margin=0.5, distance="euclidean")
    got = loss.triplet_loss(
        torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 1.0]])
    )
    assert got.item() == pytest.approx(4.5, rel=1e-6)


def test_default_distance_is_squared_euclidean() -> None:
    assert TripletLoss().distance.name == "squared_euclidean"


def _batch(seed: int, n: int = 12, d: int = 3) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    labels = [int(v) for v in rng.integers(0, 3, size=n)]
    return rng.normal(size=(n, d)), labels


@pytest.mark.parametrize("anchor_chunk", [1, 5, 64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_forward_equals_triple_loop(anchor_chunk: int, reduction: str) -> None:
    emb, labels = _batch(seed=0)
    margin = 2.0
    loss = TripletLoss(margin=margin, reduction=reduction, anchor_chunk=anchor_chunk)
    got = loss(torch.from_numpy(emb), torch.tensor(labels)).item()
    terms = _loop_terms(emb.tolist(), labels, margin)
    assert len(terms) > 0
    assert any(t > 0 for t in terms) and any(t == 0 for t in terms)  # both regimes present
    want = sum(terms) / len(terms) if reduction == "mean" else sum(terms)
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("anchor_chunk", [1, 4, 100])
def test_forward_none_reduction_lists_every_valid_triplet(anchor_chunk: int) -> None:
    emb, labels = _batch(seed=1, n=9)
    loss = TripletLoss(margin=1.0, reduction="none", anchor_chunk=anchor_chunk)
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    np.testing.assert_allclose(got.numpy(), _loop_terms(emb.tolist(), labels, 1.0), atol=1e-9)


def test_forward_counts_triplets_like_a_loop() -> None:
    # classes of sizes 3, 2, 1 in a batch of 6: anchors of class 0 have 2 positives and
    # 3 negatives (3·2·3 = 18), class 1: 2·1·4 = 8, class 2: no positive -> 26 triplets
    labels = [0, 0, 0, 1, 1, 2]
    emb = torch.arange(12, dtype=torch.float64).reshape(6, 2)
    got = TripletLoss(reduction="none", anchor_chunk=4)(emb, torch.tensor(labels))
    assert got.numel() == 26 == len(_loop_terms(emb.tolist(), labels, 1.0))


def test_forward_with_other_distance_equals_loop() -> None:
    emb, labels = _batch(seed=2, n=8)
    got = TripletLoss(margin=0.5, distance="euclidean", anchor_chunk=3)(
        torch.from_numpy(emb), torch.tensor(labels)
    )
    terms = []
    for a in range(8):
        for p in range(8):
            for n in range(8):
                if p != a and labels[p] == labels[a] and labels[n] != labels[a]:
                    d_ap = math.dist(emb[a], emb[p])
                    d_an = math.dist(emb[a], emb[n])
                    terms.append(max(d_ap - d_an + 0.5, 0.0))
    assert got.item() == pytest.approx(sum(terms) / len(terms), rel=1e-6)


def test_triplet_loss_gradcheck() -> None:
    rng = np.random.default_rng(3)
    a = torch.from_numpy(rng.normal(size=(6, 3))).requires_grad_(True)
    p = torch.from_numpy(rng.normal(size=(6, 3))).requires_grad_(True)
    n = torch.from_numpy(rng.normal(size=(6, 3))).requires_grad_(True)
    loss = TripletLoss(margin=1.0)
    terms = loss.distance.pairwise(a, p) - loss.distance.pairwise(a, n) + 1.0
    assert terms.detach().abs().min() > 1e-3  # away from the hinge
    assert (terms > 0).any() and (terms < 0).any()
    assert torch.autograd.gradcheck(loss.triplet_loss, (a, p, n))


def test_forward_gradcheck() -> None:
    emb, labels = _batch(seed=4, n=7)
    x = torch.from_numpy(emb).requires_grad_(True)
    loss = TripletLoss(margin=1.0, anchor_chunk=3)
    assert torch.autograd.gradcheck(lambda e: loss(e, torch.tensor(labels)), (x,))


@pytest.mark.parametrize("labels", [[4, 4, 4, 4], [0, 1, 2, 3]])
def test_no_valid_triplet_gives_zero_that_backpropagates(labels: list[int]) -> None:
    emb = torch.randn(4, 3, requires_grad=True)
    out = TripletLoss()(emb, torch.tensor(labels))
    assert out.item() == 0.0
    assert out.requires_grad
    out.backward()
    assert emb.grad is not None
    assert torch.equal(emb.grad, torch.zeros(4, 3))
    none = TripletLoss(reduction="none")(emb, torch.tensor(labels))
    assert none.numel() == 0


def test_margin_zero_allowed_negative_raises() -> None:
    assert TripletLoss(margin=0.0).margin == 0.0
    with pytest.raises(ValueError, match="margin"):
        TripletLoss(margin=-0.1)


def test_unknown_reduction_raises() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        TripletLoss(reduction="avg")


def test_get_loss_builds_triplet() -> None:
    loss = get_loss("triplet", margin=0.3)
    assert isinstance(loss, TripletLoss)
    assert loss.margin == 0.3
    assert loss.distance.name == "squared_euclidean"
