"""MultiSimilarityLoss against hand-worked values, a plain Python loop and pytorch-metric-learning.

Formula under test (cosine S, mining margin ε), per anchor i:
keep negatives with S_ik > min_P S_ip - ε and positives with S_ip < max_N S_ik + ε;
ℓ_i = 1/α log(1 + Σ_P e^{-α(S_ip-λ)}) + 1/β log(1 + Σ_N e^{β(S_ik-λ)}); mean over all anchors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import get_loss
from siamkit.losses.multi_similarity import MultiSimilarityLoss


def _cos(u: list[float], v: list[float]) -> float:
    dot = sum(x * y for x, y in zip(u, v, strict=True))
    return dot / math.sqrt(sum(x * x for x in u) * sum(y * y for y in v))


def _loop_terms(
    emb: list[list[float]],
    labels: list[int],
    alpha: float = 2.0,
    beta: float = 50.0,
    lam: float = 0.5,
    eps: float = 0.1,
    equal: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[list[float], int, int]:
    """Per-anchor terms, and how many positive / negative pairs the mining dropped."""
    n = len(emb)
    terms, dropped_pos, dropped_neg = [], 0, 0
    for i in range(n):
        pos = [_cos(emb[i], emb[p]) for p in range(n) if p != i and labels[p] == labels[i]]
        neg = [
            _cos(emb[i], emb[k])
            for k in range(n)
            if labels[k] != labels[i] and (i, k) not in equal and (k, i) not in equal
        ]
        kept_pos = [s for s in pos if neg and s < max(neg) + eps]
        kept_neg = [s for s in neg if pos and s > min(pos) - eps]
        dropped_pos += len(pos) - len(kept_pos)
        dropped_neg += len(neg) - len(kept_neg)
        pos_term = math.log(1 + sum(math.exp(-alpha * (s - lam)) for s in kept_pos)) / alpha
        neg_term = math.log(1 + sum(math.exp(beta * (s - lam)) for s in kept_neg)) / beta
        terms.append(pos_term + neg_term)
    return terms, dropped_pos, dropped_neg


def test_hand_worked_three_points() -> None:
    # e0=(1,0), e1=(0,1) share a label; e2=(1,1) does not. S01 = 0, S02 = S12 = 1/√2.
    # anchors 0 and 1 keep both pairs: ½·log(1 + e^{-2(0-½)}) + 1/50·log(1 + e^{50(1/√2-½)});
    # anchor 2 has no positive, so it keeps no negative either: 0.
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    got = MultiSimilarityLoss(reduction="none")(emb, torch.tensor([0, 0, 1]))
    t = 0.5 * math.log(1 + math.e) + math.log(1 + math.exp(50 * (1 / math.sqrt(2) - 0.5))) / 50
    np.testing.assert_allclose(got.numpy(), [t, t, 0.0], rtol=1e-12)
    mean = MultiSimilarityLoss()(emb, torch.tensor([0, 0, 1]))
    assert mean.item() == pytest.approx(2 * t / 3, rel=1e-12)


def test_mining_drops_easy_pairs() -> None:
    # S01 = 0.9 (same label), S02 = 0.5, S12 ≈ 0.07: for anchors 0 and 1 the negative is below
    # the positive by more than ε and the positive above the negative by more than ε, so both
    # are dropped; anchor 2 has no positive. The batch costs nothing, and still backpropagates.
    a = math.acos(0.9)
    emb = torch.tensor(
        [[1.0, 0.0], [math.cos(a), math.sin(a)], [0.5, -math.sqrt(0.75)]],
        dtype=torch.float64,
        requires_grad=True,
    )
    out = MultiSimilarityLoss()(emb, torch.tensor([0, 0, 1]))
    assert out.item() == 0.0
    out.backward()
    assert emb.grad is not None and torch.equal(emb.grad, torch.zeros_like(emb))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_forward_equals_loop(reduction: str) -> None:
    rng = np.random.default_rng(2)
    labels = [0, 1, 2, 0, 1, 2, 0, 3, 1, 2, 0, 1]  # class 3: a lone anchor
    emb = rng.normal(size=(4, 3))[labels] + 0.5 * rng.normal(size=(12, 3))  # loose clusters
    terms, dropped_pos, dropped_neg = _loop_terms(emb.tolist(), labels)
    assert 0 < dropped_pos < 30 and 0 < dropped_neg < 102  # the mining keeps some, drops some
    got = MultiSimilarityLoss(reduction=reduction)(torch.from_numpy(emb), torch.tensor(labels))
    want = {"mean": sum(terms) / len(terms), "sum": sum(terms), "none": terms}[reduction]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


def test_other_hyperparameters_equal_loop() -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(10, 4))
    labels = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]
    loss = MultiSimilarityLoss(alpha=1.5, beta=20.0, base=0.3, epsilon=0.25)
    terms, _, _ = _loop_terms(emb.tolist(), labels, alpha=1.5, beta=20.0, lam=0.3, eps=0.25)
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    assert got.item() == pytest.approx(sum(terms) / len(terms), rel=1e-10)


def test_cosine_distance_with_shifted_base_matches_default() -> None:
    # distance="cosine" gives S = cos - 1: the same loss once λ moves by -1.
    rng = np.random.default_rng(2)
    emb, labels = torch.from_numpy(rng.normal(size=(8, 3))), torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    want = MultiSimilarityLoss()(emb, labels)
    got = MultiSimilarityLoss(base=-0.5, distance="cosine")(emb, labels)
    torch.testing.assert_close(got, want)


def test_matches_pytorch_metric_learning_with_its_miner() -> None:
    pml_losses = pytest.importorskip("pytorch_metric_learning.losses")
    pml_miners = pytest.importorskip("pytorch_metric_learning.miners")
    rng = np.random.default_rng(3)
    emb = torch.from_numpy(rng.normal(size=(16, 5)))
    labels = torch.tensor([0, 1, 2, 3] * 4)
    miner = pml_miners.MultiSimilarityMiner(epsilon=0.1)
    want = pml_losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5)(
        emb, labels, miner(emb, labels)
    )
    got = MultiSimilarityLoss()(emb, labels)
    assert got.item() == pytest.approx(want.item(), rel=1e-9)


def test_no_positive_gives_a_zero_that_backpropagates() -> None:
    emb = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    out = MultiSimilarityLoss()(emb, torch.arange(5))
    assert out.item() == 0.0
    out.backward()
    assert emb.grad is not None and torch.equal(emb.grad, torch.zeros_like(emb))


def test_gradcheck() -> None:
    rng = np.random.default_rng(4)
    emb = torch.from_numpy(rng.normal(size=(8, 3))).requires_grad_(True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    loss = MultiSimilarityLoss(beta=10.0)
    assert torch.autograd.gradcheck(lambda e: loss(e, labels), (emb,))


def test_registered_and_margin_ignored() -> None:
    loss = get_loss("multi_similarity", margin=1.0)
    assert isinstance(loss, MultiSimilarityLoss)
    assert loss.epsilon == 0.1 and loss.base == 0.5
    emb, labels = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    torch.testing.assert_close(loss(emb, labels), MultiSimilarityLoss()(emb, labels))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="alpha and beta must be > 0"):
        MultiSimilarityLoss(alpha=0.0)
    with pytest.raises(ValueError, match="epsilon must be >= 0"):
        MultiSimilarityLoss(epsilon=-0.1)
    with pytest.raises(ValueError, match="choose one of"):
        MultiSimilarityLoss(reduction="max")
    with pytest.raises(ValueError, match=r"labels \(B,\)"):
        MultiSimilarityLoss()(torch.randn(4, 3), torch.tensor([[0, 0, 1, 1]]))


def test_identical_inputs_are_never_negatives() -> None:
    # Items 1 and 4 are the same input under two labels (a duplicate): the guard drops the pair.
    g = torch.Generator().manual_seed(3)
    emb = torch.randn(8, 4, generator=g, dtype=torch.float64)
    emb[4] = emb[1] + 0.01  # the same input embeds (almost) the same: a hard "negative"
    labels = [0, 0, 1, 1, 2, 2, 0, 1]
    eq = torch.zeros(8, 8, dtype=torch.bool)
    eq[1, 4] = True  # one direction is enough: the guard is symmetric
    got = MultiSimilarityLoss(reduction="none")(emb, torch.tensor(labels), inputs_equal=eq)
    want, _, _ = _loop_terms(emb.tolist(), labels, equal=frozenset({(1, 4)}))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    plain, _, _ = _loop_terms(emb.tolist(), labels)
    assert not np.allclose(want, plain)  # the guard changed the loss
