"""Losses with a miner against plain Python loops over the mined pairs and triplets.

Conventions under test: contrastive Y = 1 for a DISSIMILAR pair; triplet terms
max(d(a,p) - d(a,n) + m, 0). Random float64 batches keep ties away.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

from siamkit.distances import Distance, get_distance
from siamkit.losses import LOSSES, ContrastiveLoss, TripletLoss, get_loss
from siamkit.miners import (
    BatchHardMiner,
    DistanceWeightedMiner,
    HardPairMiner,
    SemiHardMiner,
    TripletMiner,
)


def _d(name: str, u: list[float], v: list[float]) -> float:
    if name == "euclidean":
        return math.dist(u, v)
    if name == "squared_euclidean":
        return math.dist(u, v) ** 2
    raise AssertionError(name)


def _batch(seed: int, n: int = 12, dim: int = 3) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    labels = torch.arange(n) % 3  # every class has positives
    return torch.from_numpy(rng.normal(size=(n, dim))), labels


def _reduce(terms: list[float], reduction: str) -> float:
    return sum(terms) / len(terms) if reduction == "mean" else sum(terms)


def _triplet_miner(name: str, margin: float) -> TripletMiner:
    if name == "batch_hard":
        return BatchHardMiner(margin)
    if name == "semi_hard":
        return SemiHardMiner(margin)
    return DistanceWeightedMiner(margin, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("miner", ["batch_hard", "semi_hard", "distance_weighted"])
@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mined_triplet_loss_equals_loop_over_mined_triplets(
    miner: str, distance: str, reduction: str
) -> None:
    emb, labels = _batch(seed=0)
    margin = 1.0
    loss = TripletLoss(margin, distance, reduction, miner=_triplet_miner(miner, margin))
    got = loss(emb, labels)
    # the same miner, same seed: the triplets the loss saw
    a, p, n, stats = _triplet_miner(miner, margin)(emb, labels, get_distance(distance))
    e = emb.tolist()
    terms = [
        max(_d(distance, e[i], e[j]) - _d(distance, e[i], e[k]) + margin, 0.0)
        for i, j, k in zip(a.tolist(), p.tolist(), n.tolist())
    ]
    assert len(terms) > 0
    if reduction == "none":
        np.testing.assert_allclose(got.numpy(), terms, rtol=1e-9, atol=1e-12)
    else:
        assert got.item() == pytest.approx(_reduce(terms, reduction), rel=1e-9)
    assert loss.last_stats == stats


@pytest.mark.parametrize("seed", range(3))
def test_batch_hard_triplet_equals_independent_loop(seed: int) -> None:
    emb, labels = _batch(seed, n=15, dim=4)
    e, lab = emb.tolist(), labels.tolist()
    margin = 0.5
    terms = []
    for a in range(15):
        pos = [p for p in range(15) if p != a and lab[p] == lab[a]]
        neg = [n for n in range(15) if lab[n] != lab[a]]
        d_ap = max(_d("euclidean", e[a], e[p]) for p in pos)
        d_an = min(_d("euclidean", e[a], e[n]) for n in neg)
        terms.append(max(d_ap - d_an + margin, 0.0))
    assert any(t > 0 for t in terms)
    got = get_loss("batch_hard_triplet", margin=margin, distance="euclidean")(emb, labels)
    assert got.item() == pytest.approx(sum(terms) / len(terms), rel=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_online_contrastive_equals_independent_loop(reduction: str) -> None:
    emb, labels = _batch(seed=1, n=12, dim=2)
    e, lab = emb.tolist(), labels.tolist()
    margin = 1.5
    terms = []
    n_neg_outside = 0
    for i in range(12):
        for j in range(i + 1, 12):
            d = math.dist(e[i], e[j])
            if lab[i] == lab[j]:
                terms.append(d * d)  # every positive pair apart is hard
            elif d < margin:
                terms.append((margin - d) ** 2)
            else:
                n_neg_outside += 1
    assert n_neg_outside > 0  # the miner drops some pairs
    loss = get_loss("online_contrastive", margin=margin)
    assert isinstance(loss, ContrastiveLoss)
    loss.reduction = reduction
    assert loss(emb, labels).item() == pytest.approx(_reduce(terms, reduction), rel=1e-9)
    assert loss.last_stats is not None and loss.last_stats.num_mined == len(terms)


def test_mined_contrastive_none_lists_positive_then_negative_pairs() -> None:
    emb, labels = _batch(seed=2, n=9)
    miner = HardPairMiner(pos_margin=1.0, neg_margin=2.0)
    loss = ContrastiveLoss(margin=2.0, reduction="none", miner=miner)
    got = loss(emb, labels)
    a1, p, a2, n, stats = miner(emb, labels, loss.distance)
    e = emb.tolist()
    want = [math.dist(e[i], e[j]) ** 2 for i, j in zip(a1.tolist(), p.tolist())] + [
        (2.0 - math.dist(e[i], e[j])) ** 2 for i, j in zip(a2.tolist(), n.tolist())
    ]
    assert a1.numel() > 0 and a2.numel() > 0
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9)
    assert loss.last_stats == stats
    # the same pairs through the explicit pair path
    i = torch.cat([a1, a2])
    j = torch.cat([p, n])
    y = torch.cat([torch.zeros_like(a1), torch.ones_like(a2)])
    torch.testing.assert_close(got, loss.pair_loss(emb[i], emb[j], y))


def test_mined_triplet_loss_matches_the_explicit_triplet_path() -> None:
    emb, labels = _batch(seed=3)
    loss = TripletLoss(margin=1.0, miner="semi_hard")
    a, p, n, _ = SemiHardMiner(1.0)(emb, labels, loss.distance)
    torch.testing.assert_close(loss(emb, labels), loss.triplet_loss(emb[a], emb[p], emb[n]))


def test_last_stats_is_none_without_a_miner_and_before_the_first_call() -> None:
    emb, labels = _batch(seed=4)
    plain = TripletLoss()
    plain(emb, labels)
    assert plain.last_stats is None and plain.miner is None
    assert ContrastiveLoss().last_stats is None
    mined = TripletLoss(miner="batch_hard")
    assert mined.last_stats is None
    mined(emb, labels)
    assert mined.last_stats is not None
    assert mined.last_stats.num_mined == 12
    assert 0.0 <= mined.last_stats.fraction_active <= 1.0


def test_a_name_is_built_with_the_loss_margin() -> None:
    triplet = TripletLoss(margin=0.3, miner="semi_hard")
    assert isinstance(triplet.miner, SemiHardMiner) and triplet.miner.margin == 0.3
    pair = ContrastiveLoss(margin=0.4, miner="hard_pairs")
    assert isinstance(pair.miner, HardPairMiner)
    assert (pair.miner.pos_margin, pair.miner.neg_margin) == (0.0, 0.4)
    obj = BatchHardMiner(margin=0.1)
    assert TripletLoss(margin=0.3, miner=obj).miner is obj


def test_a_miner_of_the_wrong_kind_names_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"TripletLoss takes a triplet miner; got 'hard_pairs'"
    ) as e:
        TripletLoss(miner="hard_pairs")
    assert str(e.value).endswith("choose one of: batch_hard, distance_weighted, semi_hard")
    with pytest.raises(
        ValueError, match=r"ContrastiveLoss takes a pair miner.*choose one of: hard_pairs$"
    ):
        ContrastiveLoss(miner=SemiHardMiner())
    with pytest.raises(ValueError, match=r"unknown miner 'hardest'; choose one of: batch_hard"):
        TripletLoss(miner="hardest")


def test_convenience_losses_are_registered_and_built_by_get_loss() -> None:
    assert {"online_contrastive", "batch_hard_triplet"} <= set(LOSSES.names())
    online = get_loss("online_contrastive", margin=0.7, distance="cosine")
    assert isinstance(online, ContrastiveLoss) and isinstance(online.miner, HardPairMiner)
    assert (online.margin, online.distance.name, online.miner.neg_margin) == (0.7, "cosine", 0.7)
    hard = get_loss("batch_hard_triplet", margin=0.2)
    assert isinstance(hard, TripletLoss) and isinstance(hard.miner, BatchHardMiner)
    assert (hard.margin, hard.distance.name, hard.miner.margin) == (0.2, "squared_euclidean", 0.2)
    assert "miner=batch_hard" in repr(hard)
    assert "miner" not in repr(TripletLoss())


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("online_contrastive", [0, 1, 2, 3]),  # every pair dissimilar, all outside the margin
        ("batch_hard_triplet", [0, 1, 2, 3]),  # no positive
        ("batch_hard_triplet", [4, 4, 4, 4]),  # no negative
    ],
)
def test_nothing_mined_gives_zero_that_backpropagates(name: str, labels: list[int]) -> None:
    emb = torch.arange(12, dtype=torch.float64).reshape(4, 3).requires_grad_(True)
    loss = get_loss(name, margin=1.0)
    assert isinstance(loss, (ContrastiveLoss, TripletLoss))
    out = loss(emb, torch.tensor(labels))
    assert out.item() == 0.0 and out.requires_grad
    out.backward()
    assert emb.grad is not None and torch.equal(emb.grad, torch.zeros(4, 3, dtype=torch.float64))
    assert loss.last_stats is not None and loss.last_stats.num_mined == 0
    none = get_loss(name, margin=1.0)
    assert isinstance(none, (ContrastiveLoss, TripletLoss))
    none.reduction = "none"
    assert none(emb, torch.tensor(labels)).numel() == 0


def test_mined_losses_gradcheck() -> None:
    emb, labels = _batch(seed=5, n=9)
    x = emb.clone().requires_grad_(True)
    hard = TripletLoss(margin=0.5, distance="euclidean", miner="batch_hard")
    assert torch.autograd.gradcheck(lambda t: hard(t, labels), (x,))
    online = ContrastiveLoss(margin=1.5, miner="hard_pairs")
    assert torch.autograd.gradcheck(lambda t: online(t, labels), (x,))


def test_inputs_equal_reaches_the_miner_and_guards_the_all_pairs_paths() -> None:
    emb, labels = _batch(seed=6, n=9)
    emb[4] = emb[0]  # the same input under labels 0 and 1
    equal = torch.zeros(9, 9, dtype=torch.bool)
    equal[0, 4] = True
    e, lab = emb.tolist(), labels.tolist()

    def is_neg(i: int, j: int) -> bool:
        return lab[i] != lab[j] and {i, j} != {0, 4}

    # batch hard: unflagged, 4 is anchor 0's hardest negative (distance ~0)
    hard = TripletLoss(margin=1.0, distance="euclidean", miner="batch_hard")
    hard(emb, labels)
    flagged = hard(emb, labels, equal)
    terms = []
    for a in range(9):
        d_ap = max(math.dist(e[a], e[p]) for p in range(9) if p != a and lab[p] == lab[a])
        d_an = min(math.dist(e[a], e[n]) for n in range(9) if is_neg(a, n))
        terms.append(max(d_ap - d_an + 1.0, 0.0))
    assert flagged.item() == pytest.approx(sum(terms) / 9, rel=1e-9)

    # all triplets, no miner
    plain = TripletLoss(margin=1.0, reduction="sum")(emb, labels, equal)
    want = sum(
        max(_d("squared_euclidean", e[a], e[p]) - _d("squared_euclidean", e[a], e[n]) + 1.0, 0.0)
        for a in range(9)
        for p in range(9)
        for n in range(9)
        if p != a and lab[p] == lab[a] and is_neg(a, n)
    )
    assert plain.item() == pytest.approx(want, rel=1e-9)

    # all pairs, no miner: the flagged pair is neither similar nor dissimilar
    pairs = ContrastiveLoss(margin=2.0, reduction="none")(emb, labels, equal)
    want_pairs = [
        math.dist(e[i], e[j]) ** 2 if lab[i] == lab[j] else max(2.0 - math.dist(e[i], e[j]), 0) ** 2
        for i in range(9)
        for j in range(i + 1, 9)
        if lab[i] == lab[j] or is_neg(i, j)
    ]
    np.testing.assert_allclose(pairs.numpy(), want_pairs, rtol=1e-9, atol=1e-12)
    assert len(want_pairs) == 35


class DotSimilarity(Distance):
    """A similarity (larger = closer)."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(dim=1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


def test_triplet_loss_with_a_similarity_uses_its_direction() -> None:
    emb, labels = _batch(seed=7)
    e, lab = emb.tolist(), labels.tolist()
    loss = TripletLoss(margin=1.0, distance=DotSimilarity(), reduction="sum", miner="batch_hard")
    got = loss(emb, labels)
    terms = []
    for a in range(12):
        dot = [sum(x * y for x, y in zip(e[a], e[j])) for j in range(12)]
        s_ap = min(dot[p] for p in range(12) if p != a and lab[p] == lab[a])  # least similar
        s_an = max(dot[n] for n in range(12) if lab[n] != lab[a])  # most similar
        terms.append(max(s_an - s_ap + 1.0, 0.0))
    assert got.item() == pytest.approx(sum(terms), rel=1e-9)
