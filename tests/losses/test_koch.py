"""KochLoss against hand-worked values and a plain Python loop over pairs.

Formula under test: p = σ(w·|a-b| + c), BCE against t = 1 - Y (Y = 1 for a DISSIMILAR pair).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import get_loss
from siamkit.losses.koch import KochLoss, koch


def _p(u: list[float], v: list[float], w: list[float], c: float) -> float:
    z = sum(wk * abs(x - y) for wk, x, y in zip(w, u, v, strict=True)) + c
    return 1.0 / (1.0 + math.exp(-z))


def _bce(p: float, same: bool) -> float:
    return -math.log(p) if same else -math.log(1.0 - p)


def _head(loss: KochLoss) -> tuple[list[float], float]:
    return loss.head.weight.detach()[0].tolist(), float(loss.head.bias.detach()[0])


def _loss(dim: int, seed: int = 0, reduction: str = "mean") -> KochLoss:
    torch.manual_seed(seed)
    return KochLoss(dim, reduction=reduction).double()


def test_hand_worked_probability_and_pair_loss() -> None:
    # w = (1, -2), c = 0.5; a = (0, 0), b = (1, 0.25): z = 1 - 0.5 + 0.5 = 1.
    loss = _loss(2, reduction="none")
    with torch.no_grad():
        loss.head.weight.copy_(torch.tensor([[1.0, -2.0]]))
        loss.head.bias.fill_(0.5)
    a = torch.zeros(2, 2, dtype=torch.float64)
    b = torch.tensor([[1.0, 0.25], [-1.0, -0.25]], dtype=torch.float64)  # same |a - b|
    p = 1.0 / (1.0 + math.exp(-1.0))
    np.testing.assert_allclose(loss.probability(a, b).detach().numpy(), [p, p], rtol=1e-12)
    # Y = 0 (similar, target 1): -log p; Y = 1 (dissimilar, target 0): -log(1 - p)
    got = loss.pair_loss(a, b, torch.tensor([0, 1]))
    np.testing.assert_allclose(got.detach().numpy(), [-math.log(p), -math.log(1 - p)], rtol=1e-12)


def test_probability_is_symmetric_and_in_unit_interval() -> None:
    loss = _loss(4)
    a, b = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    p = loss.probability(a, b)
    assert p.shape == (5,)
    assert bool(((p > 0) & (p < 1)).all())
    torch.testing.assert_close(p, loss.probability(b, a))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_forward_over_all_pairs_equals_double_loop(reduction: str) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(7, 3))
    labels = [0, 1, 0, 2, 1, 0, 2]
    loss = _loss(3, reduction=reduction)
    w, c = _head(loss)
    terms = [
        _bce(_p(emb[i].tolist(), emb[j].tolist(), w, c), labels[i] == labels[j])
        for i in range(7)
        for j in range(i + 1, 7)
    ]
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    want = {"mean": sum(terms) / len(terms), "sum": sum(terms), "none": terms}[reduction]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10)


def test_forward_matches_pair_loss_on_the_same_pairs() -> None:
    rng = np.random.default_rng(1)
    emb = torch.from_numpy(rng.normal(size=(6, 4)))
    labels = torch.tensor([3, 3, 7, 7, 3, 9])
    loss = _loss(4)
    i, j = torch.triu_indices(6, 6, offset=1)
    y = (labels[i] != labels[j]).long()
    torch.testing.assert_close(loss(emb, labels), loss.pair_loss(emb[i], emb[j], y))


def test_float_and_bool_pair_labels_are_accepted() -> None:
    loss = _loss(2, reduction="none")
    a, b = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 1])
    by_int = loss.pair_loss(a, b, y)
    torch.testing.assert_close(loss.pair_loss(a, b, y.double()), by_int)
    torch.testing.assert_close(loss.pair_loss(a, b, y.bool()), by_int)


@pytest.mark.parametrize("labels", [[0, 2], [-1, 0], [0.5, 1.0]])
def test_bad_pair_labels_state_the_convention(labels: list[float]) -> None:
    a, b = torch.zeros(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError, match="Y=1") as err:
        KochLoss(3).pair_loss(a, b, torch.tensor(labels))
    assert "dissimilar" in str(err.value)


def test_stable_for_far_apart_pairs() -> None:
    loss = KochLoss(2, reduction="none")
    with torch.no_grad():
        loss.head.weight.fill_(50.0)
        loss.head.bias.zero_()
    a, b = torch.zeros(2, 2), torch.full((2, 2), 100.0)  # z = 10 000
    out = loss.pair_loss(a, b, torch.tensor([0, 1]))
    # "same": -log σ(z) ≈ 0; "dissimilar": -log(1 - σ(z)) ≈ z, finite (no log(0))
    torch.testing.assert_close(out, torch.tensor([0.0, 10_000.0]))


def test_single_item_gives_a_zero_that_backpropagates() -> None:
    emb = torch.ones(1, 3, requires_grad=True)
    out = KochLoss(3)(emb, torch.tensor([0]))
    assert out.item() == 0.0
    out.backward()
    assert emb.grad is not None and torch.equal(emb.grad, torch.zeros(1, 3))


def test_gradcheck_embeddings_and_head() -> None:
    rng = np.random.default_rng(2)
    loss = _loss(3)
    emb = torch.from_numpy(rng.normal(size=(5, 3))).requires_grad_(True)
    labels = torch.tensor([0, 1, 0, 1, 2])
    w = loss.head.weight.detach().clone().requires_grad_(True)
    c = loss.head.bias.detach().clone().requires_grad_(True)

    def f(e: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        params = {"head.weight": weight, "head.bias": bias}
        return torch.func.functional_call(loss, params, (e, labels))

    assert torch.autograd.gradcheck(f, (emb, w, c))


def test_head_gets_gradients() -> None:
    loss = KochLoss(3)
    loss(torch.randn(6, 3), torch.tensor([0, 0, 1, 1, 2, 2])).backward()
    assert loss.head.weight.grad is not None and loss.head.bias.grad is not None


def test_shape_errors() -> None:
    loss = KochLoss(3)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        loss.probability(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        loss.probability(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"labels \(B,\)"):
        loss(torch.zeros(4, 3), torch.tensor([0, 1]))


def test_factory_and_constructor_errors() -> None:
    with pytest.raises(ValueError, match="needs embedding_dim"):
        get_loss("koch", margin=1.0)
    with pytest.raises(ValueError, match="takes no distance"):
        koch(distance="euclidean", embedding_dim=4)
    with pytest.raises(ValueError, match="embedding_dim must be >= 1"):
        KochLoss(0)
    with pytest.raises(ValueError, match="choose one of"):
        KochLoss(3, reduction="max")
    built = koch(margin=1.0, embedding_dim=4)
    assert isinstance(built, KochLoss) and built.embedding_dim == 4
