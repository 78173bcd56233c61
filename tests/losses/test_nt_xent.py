"""NTXentLoss against hand-worked values, a plain Python loop and pytorch-metric-learning.

Formula under test: mean over (anchor i, positive p) of
-log(exp(s_ip/τ) / Σ_{k≠i} exp(s_ik/τ)), s = cosine similarity (or -D for a distance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import get_loss
from siamkit.losses.nt_xent import NTXentLoss


def _cos(u: list[float], v: list[float]) -> float:
    dot = sum(x * y for x, y in zip(u, v, strict=True))
    return dot / math.sqrt(sum(x * x for x in u) * sum(y * y for y in v))


def _euclid(u: list[float], v: list[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(u, v, strict=True)))


def _loop_terms(
    emb: list[list[float]],
    labels: list[int],
    tau: float,
    name: str,
    equal: frozenset[tuple[int, int]] = frozenset(),
) -> list[float]:
    """One term per (anchor, positive), anchors then positives in index order; an identical
    input under another label (a pair in ``equal``) leaves the anchor's denominator."""

    def dropped(i: int, k: int) -> bool:
        return labels[i] != labels[k] and ((i, k) in equal or (k, i) in equal)

    def s(i: int, k: int) -> float:
        return _cos(emb[i], emb[k]) if name == "cosine" else -_euclid(emb[i], emb[k])

    terms = []
    n = len(emb)
    for i in range(n):
        denom = sum(math.exp(s(i, k) / tau) for k in range(n) if k != i and not dropped(i, k))
        for p in range(n):
            if p != i and labels[p] == labels[i]:
                terms.append(-math.log(math.exp(s(i, p) / tau) / denom))
    return terms


def test_hand_worked_three_points() -> None:
    # e0=(1,0), e1=(0,1) share a label, e2=(-1,0) is alone: s01 = 0, s02 = -1, s12 = 0.
    # anchor 0: -log(e^0 / (e^0 + e^{-1/τ})) = log(1 + e^{-1/τ}); anchor 1: log 2; anchor 2: none.
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    for tau in (1.0, 0.5):
        got = NTXentLoss(temperature=tau, reduction="none")(emb, labels)
        want = [math.log(1 + math.exp(-1 / tau)), math.log(2)]
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
        mean = NTXentLoss(temperature=tau)(emb, labels)
        assert mean.item() == pytest.approx(sum(want) / 2, rel=1e-12)


def test_two_views_of_one_item_cost_nothing() -> None:
    # With only each other in the softmax, the positive takes all the probability.
    emb = torch.tensor([[1.0, 2.0], [-3.0, 0.5]], dtype=torch.float64)
    got = NTXentLoss()(emb, torch.tensor([7, 7]))
    assert got.item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["cosine", "euclidean"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_forward_equals_loop(name: str, reduction: str) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(9, 4))
    labels = [0, 1, 2, 0, 1, 2, 0, 3, 1]  # class 3 has no positive
    tau = 0.3 if name == "cosine" else 2.0
    got = NTXentLoss(temperature=tau, distance=name, reduction=reduction)(
        torch.from_numpy(emb), torch.tensor(labels)
    )
    terms = _loop_terms(emb.tolist(), labels, tau, name)
    want = {"mean": sum(terms) / len(terms), "sum": sum(terms), "none": terms}[reduction]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


def test_no_positive_gives_a_zero_that_backpropagates() -> None:
    for n in (1, 4):
        emb = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
        out = NTXentLoss()(emb, torch.arange(n))
        assert out.item() == 0.0
        out.backward()
        assert emb.grad is not None
        assert torch.equal(emb.grad, torch.zeros(n, 3, dtype=torch.float64))


def test_single_item_none_reduction_has_finite_gradient() -> None:
    emb = torch.randn(1, 3, dtype=torch.float64, requires_grad=True)
    terms = NTXentLoss(reduction="none")(emb, torch.tensor([0]))
    assert terms.shape == (0,)
    terms.sum().backward()
    assert emb.grad is not None and bool(torch.isfinite(emb.grad).all())


def test_stable_at_a_tiny_temperature() -> None:
    emb = torch.randn(6, 5, dtype=torch.float32, requires_grad=True)
    out = NTXentLoss(temperature=1e-4)(emb, torch.tensor([0, 0, 1, 1, 2, 2]))
    out.backward()
    assert bool(torch.isfinite(out)) and emb.grad is not None
    assert bool(torch.isfinite(emb.grad).all())


def test_gradcheck() -> None:
    rng = np.random.default_rng(1)
    emb = torch.from_numpy(rng.normal(size=(6, 3))).requires_grad_(True)
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    for name in ("cosine", "euclidean"):
        loss = NTXentLoss(temperature=0.5, distance=name)
        assert torch.autograd.gradcheck(lambda e, loss=loss: loss(e, labels), (emb,))


def test_matches_pytorch_metric_learning_with_two_views_per_item() -> None:
    # PML's denominator holds the positive and the negatives only; with exactly two views per
    # id there are no other positives, so the two definitions coincide.
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    rng = np.random.default_rng(2)
    emb = torch.from_numpy(rng.normal(size=(10, 6)))
    labels = torch.arange(5).repeat(2)
    want = pml.NTXentLoss(temperature=0.07)(emb, labels)
    got = NTXentLoss(temperature=0.07)(emb, labels)
    assert got.item() == pytest.approx(want.item(), rel=1e-9)


def test_registered_under_both_names_and_margin_ignored() -> None:
    a = get_loss("nt_xent", margin=1.0)
    b = get_loss("multiple_negatives_ranking", margin=0.2, distance="euclidean")
    assert isinstance(a, NTXentLoss) and isinstance(b, NTXentLoss)
    assert a.distance.name == "cosine" and b.distance.name == "euclidean"
    emb, labels = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    torch.testing.assert_close(a(emb, labels), NTXentLoss()(emb, labels))


@pytest.mark.parametrize("tau", [0.0, -0.1])
def test_bad_temperature_raises(tau: float) -> None:
    with pytest.raises(ValueError, match="temperature must be > 0"):
        NTXentLoss(temperature=tau)


def test_bad_reduction_and_shapes_raise() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        NTXentLoss(reduction="max")
    with pytest.raises(ValueError, match=r"labels \(B,\)"):
        NTXentLoss()(torch.randn(4, 3), torch.tensor([0, 0, 1]))


def test_identical_inputs_leave_the_softmax() -> None:
    # Self-supervised batches label items by id; items 0 and 2 are duplicates in the data.
    g = torch.Generator().manual_seed(5)
    emb = torch.randn(8, 3, generator=g, dtype=torch.float64)
    labels = [0, 1, 2, 3, 0, 1, 2, 3]  # two views of four items
    eq = torch.zeros(8, 8, dtype=torch.bool)
    for i, j in [(0, 2), (0, 6), (4, 2), (4, 6)]:  # every view of item 0 against item 2's
        eq[i, j] = True
    got = NTXentLoss(temperature=0.5, reduction="none")(emb, torch.tensor(labels), eq)
    pairs = frozenset({(0, 2), (0, 6), (4, 2), (4, 6)})
    want = _loop_terms(emb.tolist(), labels, 0.5, "cosine", equal=pairs)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    assert not np.allclose(want, _loop_terms(emb.tolist(), labels, 0.5, "cosine"))
