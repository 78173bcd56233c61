"""Miners against plain Python loops over every (a, p, n), the false-negative guard, the stats,
the registry, pytorch-metric-learning's miners, and an O(B²) memory bound at B = 1024.

Random float64 batches keep the loops' ties away (checked by ``_assert_no_ties``).
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Set as AbstractSet

import numpy as np
import pytest
import torch
from torch import Tensor

from siamkit.distances import Distance, get_distance
from siamkit.miners import (
    MINERS,
    BatchHardMiner,
    DistanceWeightedMiner,
    HardPairMiner,
    MinedPairs,
    MinedTriplets,
    Miner,
    MinerStats,
    PairMiner,
    SemiHardMiner,
    TripletMiner,
    get_miner,
    miner_names,
    relations,
    resolve_miner,
)

TRIPLET_MINERS = ["batch_hard", "distance_weighted", "semi_hard"]
PAIR_MINERS = ["hard_pairs"]


class DotSimilarity(Distance):
    """A similarity (larger = closer), to check that miners let the distance decide."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(dim=1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


def _value(name: str, u: list[float], v: list[float]) -> float:
    """Plain-Python distance (or similarity, for "dot")."""
    if name == "euclidean":
        return math.dist(u, v)
    if name == "squared_euclidean":
        return math.dist(u, v) ** 2
    if name == "manhattan":
        return sum(abs(x - y) for x, y in zip(u, v))
    if name == "cosine":
        dot = sum(x * y for x, y in zip(u, v))
        return 1.0 - dot / (math.hypot(*u) * math.hypot(*v))
    if name == "dot":
        return sum(x * y for x, y in zip(u, v))
    raise AssertionError(name)


def _distance(name: str) -> Distance:
    return DotSimilarity() if name == "dot" else get_distance(name)


def _far(name: str, emb: list[list[float]]) -> list[list[float]]:
    """Larger = farther, whatever the metric."""
    sign = -1.0 if name == "dot" else 1.0
    return [[sign * _value(name, u, v) for v in emb] for u in emb]


def _batch(seed: int, n: int = 12, dim: int = 3, classes: int = 3) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    return torch.from_numpy(rng.normal(size=(n, dim))), torch.from_numpy(labels)


def _is_pos(labels: list[int], a: int, p: int) -> bool:
    return a != p and labels[a] == labels[p]


def _is_neg(labels: list[int], a: int, n: int, equal: AbstractSet[tuple[int, int]]) -> bool:
    return labels[a] != labels[n] and (a, n) not in equal and (n, a) not in equal


def _all_triplets(
    labels: list[int], equal: AbstractSet[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    b = len(labels)
    return [
        (a, p, n)
        for a in range(b)
        for p in range(b)
        for n in range(b)
        if _is_pos(labels, a, p) and _is_neg(labels, a, n, equal)
    ]


def _assert_no_ties(far: list[list[float]], labels: list[int], margin: float) -> None:
    for a, p, n in _all_triplets(labels, set()):
        assert abs(far[a][p] - far[a][n]) > 1e-9
        assert abs(far[a][p] + margin - far[a][n]) > 1e-9


def ref_batch_hard(
    far: list[list[float]], labels: list[int], equal: AbstractSet[tuple[int, int]] = frozenset()
) -> list[tuple[int, int, int]]:
    """Per anchor, the (a, p, n) over all triplets with the largest d(a,p), then smallest d(a,n)."""
    best: dict[int, tuple[int, int, int]] = {}
    for a, p, n in _all_triplets(labels, equal):
        if a not in best:
            best[a] = (a, p, n)
            continue
        _, bp, bn = best[a]
        if far[a][p] > far[a][bp] or (p == bp and far[a][n] < far[a][bn]):
            best[a] = (a, p, best[a][2] if p == bp else n)
        if far[a][n] < far[a][best[a][2]]:
            best[a] = (a, best[a][1], n)
    return [best[a] for a in sorted(best)]


def ref_semi_hard(
    far: list[list[float]],
    labels: list[int],
    margin: float,
    equal: AbstractSet[tuple[int, int]] = frozenset(),
) -> list[tuple[int, int, int]]:
    """Per (a, p), the closest n with d(a,p) < d(a,n) < d(a,p) + m; pairs without one skipped."""
    best: dict[tuple[int, int], int] = {}
    for a, p, n in _all_triplets(labels, equal):
        if far[a][p] < far[a][n] < far[a][p] + margin and (
            (a, p) not in best or far[a][n] < far[a][best[a, p]]
        ):
            best[a, p] = n
    return [(a, p, best[a, p]) for a, p in sorted(best)]


def ref_hard_pairs(
    far: list[list[float]],
    labels: list[int],
    pos_margin: float,
    neg_margin: float,
    equal: AbstractSet[tuple[int, int]] = frozenset(),
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    pos, neg = [], []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if _is_pos(labels, i, j) and far[i][j] > pos_margin:
                pos.append((i, j))
            if _is_neg(labels, i, j, equal) and far[i][j] < neg_margin:
                neg.append((i, j))
    return pos, neg


def _triplets(out: MinedTriplets) -> list[tuple[int, int, int]]:
    return list(zip(out.anchor.tolist(), out.positive.tolist(), out.negative.tolist()))


METRICS = ["euclidean", "squared_euclidean", "cosine", "manhattan", "dot"]
MARGIN = {"euclidean": 1.0, "squared_euclidean": 2.0, "cosine": 0.5, "manhattan": 1.5, "dot": 1.0}


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("seed", range(4))
def test_batch_hard_equals_loop(metric: str, seed: int) -> None:
    emb, labels = _batch(seed)
    far = _far(metric, emb.tolist())
    _assert_no_ties(far, labels.tolist(), MARGIN[metric])
    out = BatchHardMiner(MARGIN[metric])(emb, labels, _distance(metric))
    want = ref_batch_hard(far, labels.tolist())
    assert len(want) > 0
    assert _triplets(out) == want


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("seed", range(4))
def test_semi_hard_equals_loop(metric: str, seed: int) -> None:
    emb, labels = _batch(seed, n=14)
    margin = MARGIN[metric]
    far = _far(metric, emb.tolist())
    _assert_no_ties(far, labels.tolist(), margin)
    out = SemiHardMiner(margin)(emb, labels, _distance(metric))
    want = ref_semi_hard(far, labels.tolist(), margin)
    n_pos_pairs = sum(_is_pos(labels.tolist(), a, p) for a in range(14) for p in range(14))
    assert 0 < len(want) < n_pos_pairs  # some (a, p) pairs have no semi-hard negative
    assert _triplets(out) == want


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("seed", range(3))
def test_hard_pairs_equals_loop(metric: str, seed: int) -> None:
    emb, labels = _batch(seed)
    far = _far(metric, emb.tolist())
    flat = sorted(far[i][j] for i in range(12) for j in range(i + 1, 12))
    q1, q3 = len(flat) // 4, 3 * len(flat) // 4  # both margins bite; midpoints avoid ties
    pos_m, neg_m = (flat[q1] + flat[q1 + 1]) / 2, (flat[q3] + flat[q3 + 1]) / 2
    sign = -1.0 if metric == "dot" else 1.0  # thresholds are in the metric's own units
    out = HardPairMiner(sign * pos_m, sign * neg_m)(emb, labels, _distance(metric))
    want_pos, want_neg = ref_hard_pairs(far, labels.tolist(), pos_m, neg_m)
    all_pos, all_neg = ref_hard_pairs(far, labels.tolist(), -math.inf, math.inf)
    assert 0 < len(want_pos) < len(all_pos) and 0 < len(want_neg) < len(all_neg)
    assert list(zip(out.pos_anchor.tolist(), out.positive.tolist())) == want_pos
    assert list(zip(out.neg_anchor.tolist(), out.negative.tolist())) == want_neg


def _ref_probabilities(
    emb: list[list[float]],
    labels: list[int],
    cutoff: float,
    nonzero: float,
    equal: AbstractSet[tuple[int, int]] = frozenset(),
) -> list[list[float]]:
    """Wu et al. 2017: weight 1/q(d), q(d) = d^(n-2) (1 - d²/4)^((n-3)/2), d clamped at cutoff."""
    dim = len(emb[0])
    unit = [[x / math.hypot(*u) for x in u] for u in emb]
    rows = []
    for a in range(len(emb)):
        w = []
        for n in range(len(emb)):
            d = math.dist(unit[a], unit[n])
            if not _is_neg(labels, a, n, equal) or d >= nonzero:
                w.append(0.0)
                continue
            dc = max(d, cutoff)
            w.append(1.0 / (dc ** (dim - 2) * (1.0 - dc * dc / 4.0) ** ((dim - 3) / 2)))
        total = sum(w)
        rows.append([x / total if total else 0.0 for x in w])
    return rows


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_distance_weighted_probabilities_equal_loop(dim: int) -> None:
    emb, labels = _batch(seed=dim, n=16, dim=dim)
    miner = DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4)
    got = miner.probabilities(emb, labels)
    want = _ref_probabilities(emb.tolist(), labels.tolist(), 0.5, 1.4)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)
    w = np.array(want)
    assert (w.sum(1) > 0).any() and (w[w > 0] != w[w > 0].max()).any()  # not uniform
    assert ((w == 0) & ~np.eye(16, dtype=bool)).any()  # the nonzero-loss cutoff bites


def test_distance_weighted_in_high_dimension_stays_finite() -> None:
    # in 512-D, 1/q(d) spans hundreds of orders of magnitude: only log space copes
    emb, labels = _batch(seed=0, n=32, dim=512)
    emb = emb * 0.02 + torch.eye(32, 512)  # spread near the pole so some d < 1.4
    probs = DistanceWeightedMiner().probabilities(emb.float(), labels)
    assert torch.isfinite(probs).all()
    sums = probs.sum(1)
    assert torch.allclose(sums[sums > 0], torch.ones_like(sums[sums > 0]), atol=1e-5)
    out = DistanceWeightedMiner(generator=torch.Generator().manual_seed(0))(
        emb.float(), labels, get_distance("euclidean")
    )
    assert out.stats.num_mined > 0


def test_distance_weighted_draws_follow_the_probabilities() -> None:
    emb, labels = _batch(seed=11, n=8, dim=3, classes=2)
    miner = DistanceWeightedMiner(generator=torch.Generator().manual_seed(0))
    probs = miner.probabilities(emb, labels).numpy()
    draws = 3000
    counts = np.zeros_like(probs)
    dist = get_distance("euclidean")
    for _ in range(draws):
        out = miner(emb, labels, dist)
        first = {a: n for a, _, n in _triplets(out)}  # one negative per anchor
        for a, n in first.items():
            counts[a, n] += 1
    drawn_rows = probs.sum(1) > 0
    assert drawn_rows.sum() >= 4
    freq = counts[drawn_rows] / draws
    p = probs[drawn_rows]
    assert (freq[p == 0] == 0).all()
    assert np.all(np.abs(freq - p) < 4.5 * np.sqrt(p * (1 - p) / draws) + 1e-9)


def test_distance_weighted_pairs_every_positive_with_one_negative() -> None:
    emb, labels = _batch(seed=5, n=12, dim=4)
    miner = DistanceWeightedMiner(generator=torch.Generator().manual_seed(3))
    out = miner(emb, labels, get_distance("euclidean"))
    probs = miner.probabilities(emb, labels)
    lab = labels.tolist()
    anchors = [
        a for a in range(12) if probs[a].sum() > 0 and any(_is_pos(lab, a, p) for p in range(12))
    ]
    want_ap = [(a, p) for a in anchors for p in range(12) if _is_pos(lab, a, p)]
    assert [(a, p) for a, p, _ in _triplets(out)] == want_ap
    neg_of: dict[int, int] = {}
    for a, _, n in _triplets(out):
        assert neg_of.setdefault(a, n) == n
        assert probs[a, n] > 0


def test_distance_weighted_is_seeded_by_its_generator() -> None:
    emb, labels = _batch(seed=6, n=24, dim=3)
    dist = get_distance("euclidean")

    def run(seed: int) -> list[list[tuple[int, int, int]]]:
        m = DistanceWeightedMiner(generator=torch.Generator().manual_seed(seed))
        return [_triplets(m(emb, labels, dist)) for _ in range(5)]

    assert run(1) == run(1)
    assert run(1) != run(2)
    # without a generator it follows the global RNG
    torch.manual_seed(7)
    first = _triplets(DistanceWeightedMiner()(emb, labels, dist))
    torch.manual_seed(7)
    assert _triplets(DistanceWeightedMiner()(emb, labels, dist)) == first


# ---- false-negative guard ----------------------------------------------------------------


def _mine(
    name: str, emb: Tensor, labels: Tensor, equal: Tensor | None = None
) -> MinedTriplets | MinedPairs:
    miner = get_miner(name, margin=1.0)
    assert miner is not None
    if isinstance(miner, DistanceWeightedMiner):
        miner.generator = torch.Generator().manual_seed(0)
    assert isinstance(miner, (PairMiner, TripletMiner))
    return miner(emb, labels, get_distance("euclidean"), equal)


def _check_roles(
    out: MinedTriplets | MinedPairs, labels: list[int], equal: set[tuple[int, int]]
) -> None:
    if isinstance(out, MinedTriplets):
        for a, p, n in _triplets(out):
            assert _is_pos(labels, a, p) and _is_neg(labels, a, n, equal)
    else:
        for i, j in zip(out.pos_anchor.tolist(), out.positive.tolist()):
            assert i < j and _is_pos(labels, i, j)
        for i, j in zip(out.neg_anchor.tolist(), out.negative.tolist()):
            assert i < j and _is_neg(labels, i, j, equal)


@pytest.mark.parametrize("name", TRIPLET_MINERS + PAIR_MINERS)
@pytest.mark.parametrize("seed", range(5))
def test_same_label_is_never_a_negative_and_no_item_its_own_positive(name: str, seed: int) -> None:
    emb, labels = _batch(seed, n=20, dim=2, classes=4)
    emb = emb * 0.3  # crowded: many pairs inside every margin
    out = _mine(name, emb, labels)
    assert out.stats.num_mined > 0
    _check_roles(out, labels.tolist(), set())


@pytest.mark.parametrize("name", TRIPLET_MINERS + PAIR_MINERS)
def test_inputs_marked_identical_are_never_negatives(name: str) -> None:
    emb, labels = _batch(seed=3, n=10, dim=3)
    emb[7] = emb[2]  # the same input twice, under different labels (a labelling slip)
    labels[2], labels[7] = 0, 1
    labels[0], labels[1] = 0, 1  # both have a positive
    equal = torch.zeros(10, 10, dtype=torch.bool)
    equal[2, 7] = True  # one direction is enough
    flagged = _mine(name, emb, labels, equal)
    assert flagged.stats.num_mined > 0
    _check_roles(flagged, labels.tolist(), {(2, 7)})
    if name == "batch_hard":  # unflagged, the duplicate is the hardest possible negative
        unflagged = _mine(name, emb, labels)
        assert isinstance(unflagged, MinedTriplets)
        assert (2, 7) in [(a, n) for a, _, n in _triplets(unflagged)]
    if name == "hard_pairs":
        unflagged = _mine(name, emb, labels)
        assert isinstance(unflagged, MinedPairs)
        assert (2, 7) in zip(unflagged.neg_anchor.tolist(), unflagged.negative.tolist())


def test_relations_masks() -> None:
    labels = torch.tensor([0, 0, 1, 1])
    equal = torch.zeros(4, 4, dtype=torch.bool)
    equal[3, 0] = True
    pos, neg = relations(labels, equal)
    assert pos.tolist() == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    assert neg.tolist() == [[0, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 0, 0]]


@pytest.mark.parametrize("name", TRIPLET_MINERS + PAIR_MINERS)
@pytest.mark.parametrize("labels", [[4, 4, 4, 4], [0, 1, 2, 3]])
def test_no_positive_or_no_negative_mines_nothing(name: str, labels: list[int]) -> None:
    out = _mine(name, torch.randn(4, 3), torch.tensor(labels))
    if isinstance(out, MinedTriplets):
        assert out.anchor.numel() == 0 and out.anchor.dtype == torch.long
        assert out.stats.num_mined == 0
    assert out.stats.fraction_active == 0.0 or name == "hard_pairs"
    if isinstance(out, MinedTriplets) or labels[0] == labels[1]:
        assert math.isnan(out.stats.mean_neg_distance)


# ---- stats -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRIPLET_MINERS)
@pytest.mark.parametrize("metric", ["euclidean", "dot"])
def test_triplet_stats_equal_direct_computation(name: str, metric: str) -> None:
    rng = np.random.default_rng(0)
    labels = torch.arange(16) % 4
    centres = rng.normal(size=(4, 3)) * 2  # clustered, so some triplets are inactive
    emb = torch.from_numpy(centres[labels.numpy()] + rng.normal(size=(16, 3)) * 0.7)
    margin = 0.7
    miner = get_miner(name, margin=margin)
    assert isinstance(miner, TripletMiner)
    if isinstance(miner, DistanceWeightedMiner):
        miner.generator = torch.Generator().manual_seed(0)
    out = miner(emb, labels, _distance(metric))
    values = [[_value(metric, u, v) for v in emb.tolist()] for u in emb.tolist()]
    far = _far(metric, emb.tolist())
    trip = _triplets(out)
    active = [far[a][p] - far[a][n] + margin > 0 for a, p, n in trip]
    if name == "semi_hard":  # d(a,n) < d(a,p) + m by construction
        assert all(active)
    else:
        assert 0 < sum(active) < len(active)  # both regimes present
    want = MinerStats(
        num_mined=len(trip),
        fraction_active=sum(active) / len(active),
        mean_pos_distance=float(np.mean([values[a][p] for a, p, _ in trip])),
        mean_neg_distance=float(np.mean([values[a][n] for a, _, n in trip])),
    )
    assert out.stats.num_mined == want.num_mined
    assert out.stats[1:] == pytest.approx(want[1:], rel=1e-9)


def test_pair_stats_equal_direct_computation() -> None:
    emb, labels = _batch(seed=9, n=16, dim=3)
    out = HardPairMiner(pos_margin=1.0, neg_margin=1.5)(emb, labels, get_distance("euclidean"))
    pos = list(zip(out.pos_anchor.tolist(), out.positive.tolist()))
    neg = list(zip(out.neg_anchor.tolist(), out.negative.tolist()))
    e = emb.tolist()
    assert out.stats.num_mined == len(pos) + len(neg) > 0
    assert out.stats.fraction_active == 1.0  # hard pairs violate their margin by definition
    assert out.stats.mean_pos_distance == pytest.approx(
        np.mean([math.dist(e[i], e[j]) for i, j in pos])
    )
    assert out.stats.mean_neg_distance == pytest.approx(
        np.mean([math.dist(e[i], e[j]) for i, j in neg])
    )


def test_precomputed_matrix_gives_the_same_result() -> None:
    emb, labels = _batch(seed=2, n=12)
    dist = get_distance("cosine")
    for name in ["batch_hard", "semi_hard", "hard_pairs"]:
        miner = get_miner(name, margin=0.5)
        assert isinstance(miner, (PairMiner, TripletMiner))
        a = miner(emb, labels, dist)
        b = miner(emb, labels, dist, matrix=dist.matrix(emb))
        assert all(torch.equal(x, y) for x, y in zip(a[:-1], b[:-1])) and a.stats == b.stats


def test_mining_does_not_track_gradients() -> None:
    emb, labels = _batch(seed=2, n=8)
    emb.requires_grad_(True)
    out = BatchHardMiner()(emb, labels, get_distance("euclidean"))
    assert not out.anchor.requires_grad


# ---- registry, get_miner and errors ------------------------------------------------------


def test_registry_and_kinds() -> None:
    assert MINERS.names() == ["batch_hard", "distance_weighted", "hard_pairs", "semi_hard"]
    assert miner_names(TripletMiner) == TRIPLET_MINERS
    assert miner_names(PairMiner) == PAIR_MINERS
    assert miner_names() == MINERS.names()


@pytest.mark.parametrize("name", sorted(MINERS))
def test_every_registered_miner_builds_with_a_margin(name: str) -> None:
    miner = get_miner(name, margin=0.3)
    assert isinstance(miner, Miner) and miner.name == name
    assert miner.kind in ("pair", "triplet")
    assert name in repr(miner) or type(miner).__name__ in repr(miner)
    if isinstance(miner, TripletMiner):
        assert miner.margin == 0.3
    else:
        assert isinstance(miner, HardPairMiner)
        assert (miner.pos_margin, miner.neg_margin) == (0.0, 0.3)


def test_get_miner_passes_objects_and_none_through() -> None:
    m = SemiHardMiner(margin=0.2)
    assert get_miner(m) is m
    assert get_miner(None) is None


def test_unknown_miner_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        get_miner("x")
    assert str(err.value) == (
        "unknown miner 'x'; choose one of: batch_hard, distance_weighted, hard_pairs, semi_hard"
    )
    with pytest.raises(TypeError, match="registered name"):
        get_miner(3)  # type: ignore[arg-type]


def test_resolve_miner_rejects_the_other_kind() -> None:
    with pytest.raises(ValueError, match="choose one of: batch_hard, distance_weighted, semi_hard"):
        resolve_miner("hard_pairs", TripletMiner, 1.0, "TripletLoss")
    with pytest.raises(ValueError, match=r"takes a pair miner; got 'semi_hard'.*: hard_pairs$"):
        resolve_miner(SemiHardMiner(), PairMiner, 1.0, "ContrastiveLoss")


def test_bad_settings_and_inputs_say_what_was_received() -> None:
    with pytest.raises(ValueError, match=r"margin > 0 .*got 0\.0"):
        SemiHardMiner(margin=0.0)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        BatchHardMiner(margin=-1.0)
    with pytest.raises(ValueError, match=r"cutoff=1\.5 and nonzero_loss_cutoff=1\.4"):
        DistanceWeightedMiner(cutoff=1.5)
    miner, dist = BatchHardMiner(), get_distance("euclidean")
    emb, labels = torch.randn(4, 2), torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"labels must be \(4,\).*got shape \(3,\)"):
        miner(emb, labels[:3], dist)
    with pytest.raises(ValueError, match=r"embeddings \(B, D\); got shape \(4,\)"):
        miner(emb[:, 0], labels, dist)
    with pytest.raises(ValueError, match=r"\(4, 4\) bool.*dtype torch.int64"):
        miner(emb, labels, dist, torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(4, 4\) bool.*shape \(3, 3\)"):
        miner(emb, labels, dist, torch.zeros(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"matrix must be .*got \(4, 3\)"):
        miner(emb, labels, dist, matrix=torch.zeros(4, 3))


# ---- cross-check with pytorch-metric-learning --------------------------------------------


def test_batch_hard_and_semi_hard_agree_with_pytorch_metric_learning() -> None:
    pml_miners = pytest.importorskip("pytorch_metric_learning.miners")
    pml_distances = pytest.importorskip("pytorch_metric_learning.distances")
    emb, labels = _batch(seed=12, n=32, dim=4, classes=5)
    lp = pml_distances.LpDistance(normalize_embeddings=False)
    dist = get_distance("euclidean")

    theirs = sorted(zip(*(t.tolist() for t in pml_miners.BatchHardMiner(distance=lp)(emb, labels))))
    assert sorted(_triplets(BatchHardMiner()(emb, labels, dist))) == theirs

    margin = 0.5
    semi = pml_miners.TripletMarginMiner(margin=margin, type_of_triplets="semihard", distance=lp)
    every = list(zip(*(t.tolist() for t in semi(emb, labels))))  # all semi-hard (a, p, n)
    d = dist.matrix(emb)
    closest: dict[tuple[int, int], int] = {}
    for a, p, n in every:
        if (a, p) not in closest or d[a, n] < d[a, closest[a, p]]:
            closest[a, p] = n
    ours = SemiHardMiner(margin)(emb, labels, dist)
    assert len(every) > ours.stats.num_mined > 0
    assert _triplets(ours) == [(a, p, closest[a, p]) for a, p in sorted(closest)]


# ---- memory: O(B²), never O(B³) ----------------------------------------------------------

MIB = 1 << 20
B, DIM = 1024, 64
# a handful of (B, B) float32 matrices; one (B, B, B) float32 tensor would need 4 GiB
BOUND_BYTES = B * B * 4 * 20

_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import torch
    from siamkit.distances import get_distance
    from siamkit.losses import get_loss
    from siamkit.miners import get_miner

    torch.set_num_threads(2)
    kind, name = sys.argv[1], sys.argv[2]
    b, dim = int(sys.argv[3]), int(sys.argv[4])
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(b) % 64  # 16 items of each of 64 classes
    emb = torch.nn.functional.normalize(torch.randn(b, dim, generator=g), dim=1)
    dist = get_distance("euclidean")
    if kind == "miner":
        fn = get_miner(name, margin=0.5)
        run = lambda e, y: fn(e, y, dist).stats.num_mined
    else:
        fn = get_loss(name, margin=0.5, distance="euclidean")
        def run(e, y):
            e = e.clone().requires_grad_(True)
            fn(e, y).backward()
            return fn.last_stats.num_mined
    run(emb[:64], labels[:64])  # warm up kernels and the allocator

    def status(key):
        with open("/proc/self/status") as f:
            line = next(l for l in f if l.startswith(key + ":"))
        return int(line.split()[1]) * 1024

    try:  # reset the peak (VmHWM) so spikes during imports do not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    rss_before = status("VmRSS")
    mined = run(emb, labels)
    peak = status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(mined, peak - rss_before)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "name"),
    [("miner", n) for n in sorted(MINERS)]
    + [("loss", "batch_hard_triplet"), ("loss", "online_contrastive")],
)
def test_mining_1024_items_stays_in_o_b_squared_memory(kind: str, name: str) -> None:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, kind, name, str(B), str(DIM)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    mined, growth = (int(v) for v in done.stdout.split())
    print(
        f"{kind} {name}: {mined} mined, peak growth {growth / MIB:.1f} MiB in {time.perf_counter() - start:.1f} s"
    )
    assert mined > 0
    assert growth < BOUND_BYTES, (
        f"peak grew {growth / MIB:.0f} MiB, over {BOUND_BYTES / MIB:.0f} MiB"
    )
