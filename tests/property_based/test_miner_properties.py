"""Properties of the miners on random batches: every mined pair or triplet is valid, and the
margin-based miners mine exactly what a brute-force loop over the batch finds.

Valid: indices in range, anchor and positive share a label and are different items, anchor
and negative have different labels and are not marked identical (the false-negative guard).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from siamkit.distances import Distance, get_distance
from siamkit.losses import MultiSimilarityLoss
from siamkit.miners import (
    MINERS,
    DistanceWeightedMiner,
    HardPairMiner,
    PairMiner,
    SemiHardMiner,
    TripletMiner,
    get_miner,
)

DISTANCES = ["euclidean", "squared_euclidean", "cosine", "manhattan", "similarity"]


def _distance(name: str) -> Distance:
    """A registered distance, or ``similarity``: cosine similarity, larger = closer."""
    return MultiSimilarityLoss().distance if name == "similarity" else get_distance(name)


@st.composite
def batches(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Embeddings ``(B, D)``, labels ``(B,)`` of up to 3 classes, and optionally
    ``inputs_equal`` ``(B, B)`` from random item ids (one id may carry two labels)."""
    b = draw(st.integers(1, 9))
    d = draw(st.integers(1, 4))
    x = draw(arrays(np.float64, (b, d), elements=st.floats(-3.0, 3.0)))
    y = draw(arrays(np.int64, (b,), elements=st.integers(0, 2)))
    equal = None
    if draw(st.booleans()):
        ids = torch.from_numpy(draw(arrays(np.int64, (b,), elements=st.integers(0, b))))
        equal = ids[:, None] == ids[None, :]
    return torch.from_numpy(x), torch.from_numpy(y), equal


def _check_positive(a: torch.Tensor, p: torch.Tensor, y: torch.Tensor) -> None:
    b = len(y)
    assert a.dtype == p.dtype == torch.long and a.shape == p.shape
    assert bool(((a >= 0) & (a < b) & (p >= 0) & (p < b)).all())
    assert bool((a != p).all()), "an item is never its own positive"
    assert bool((y[a] == y[p]).all())


def _check_negative(
    a: torch.Tensor, n: torch.Tensor, y: torch.Tensor, equal: torch.Tensor | None
) -> None:
    b = len(y)
    assert a.dtype == n.dtype == torch.long and a.shape == n.shape
    assert bool(((a >= 0) & (a < b) & (n >= 0) & (n < b)).all())
    assert bool((y[a] != y[n]).all())
    if equal is not None:
        assert not bool((equal[a, n] | equal[n, a]).any()), "identical inputs are no negatives"


def _miner(name: str) -> TripletMiner | PairMiner:
    if name == "distance_weighted":
        return DistanceWeightedMiner(margin=0.5, generator=torch.Generator().manual_seed(0))
    miner = get_miner(name, margin=0.5)
    assert isinstance(miner, (TripletMiner, PairMiner))
    return miner


@pytest.mark.parametrize("name", MINERS.names())
@given(batch=batches(), distance=st.sampled_from(DISTANCES))
def test_every_mined_pair_and_triplet_is_valid(
    name: str, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None], distance: str
) -> None:
    x, y, equal = batch
    miner = _miner(name)
    if isinstance(miner, TripletMiner):
        a, p, n, stats = miner(x, y, _distance(distance), equal)
        _check_positive(a, p, y)
        _check_negative(a, n, y, equal)
        assert stats.num_mined == len(a)
    else:
        a1, p, a2, n, stats = miner(x, y, _distance(distance), equal)
        _check_positive(a1, p, y)
        _check_negative(a2, n, y, equal)
        assert bool((a1 < p).all()) and bool((a2 < n).all()), "pairs are listed i < j"
        assert stats.num_mined == len(a1) + len(a2)
    assert 0.0 <= stats.fraction_active <= 1.0


def _far(dist: Distance, x: torch.Tensor) -> list[list[float]]:
    """The batch's matrix as the miners read it: larger = farther, whatever the distance."""
    return (-dist.closeness(dist.matrix(x))).tolist()


def _relations(
    y: torch.Tensor, equal: torch.Tensor | None
) -> tuple[list[list[bool]], list[list[bool]]]:
    b, labels = len(y), y.tolist()
    eq = [[False] * b for _ in range(b)] if equal is None else equal.tolist()
    pos = [[i != j and labels[i] == labels[j] for j in range(b)] for i in range(b)]
    neg = [
        [labels[i] != labels[j] and not (eq[i][j] or eq[j][i]) for j in range(b)] for i in range(b)
    ]
    return pos, neg


@given(batch=batches(), distance=st.sampled_from(DISTANCES))
def test_batch_hard_takes_each_anchors_farthest_positive_and_closest_negative(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None], distance: str
) -> None:
    x, y, equal = batch
    dist = _distance(distance)
    a, p, n, _ = get_miner("batch_hard")(x, y, dist, equal)  # type: ignore[misc]
    far, (pos, neg) = _far(dist, x), _relations(y, equal)
    b = len(y)
    anchors = [i for i in range(b) if any(pos[i]) and any(neg[i])]
    assert a.tolist() == anchors
    for i, pi, ni in zip(a.tolist(), p.tolist(), n.tolist()):
        assert far[i][pi] == max(far[i][j] for j in range(b) if pos[i][j])
        assert far[i][ni] == min(far[i][j] for j in range(b) if neg[i][j])


@given(batch=batches(), distance=st.sampled_from(DISTANCES), margin=st.floats(0.05, 2.0))
def test_semi_hard_mines_what_the_loop_finds(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None], distance: str, margin: float
) -> None:
    """Every (a, p) with a negative in ``d(a,p) < d(a,n) < d(a,p) + m``, with the closest such
    negative, and nothing else."""
    x, y, equal = batch
    dist = _distance(distance)
    a, p, n, _ = SemiHardMiner(margin)(x, y, dist, equal)
    far, (pos, neg) = _far(dist, x), _relations(y, equal)
    b = len(y)
    want = {}
    for i in range(b):
        for j in range(b):
            if not pos[i][j]:
                continue
            semi = [far[i][k] for k in range(b) if neg[i][k] and far[i][j] < far[i][k]]
            semi = [v for v in semi if v < far[i][j] + margin]
            if semi:
                want[(i, j)] = min(semi)
    got = {(i, j): far[i][k] for i, j, k in zip(a.tolist(), p.tolist(), n.tolist())}
    assert got == want


@given(
    batch=batches(),
    distance=st.sampled_from(DISTANCES),
    pos_margin=st.floats(-1.0, 2.0),
    neg_margin=st.floats(-1.0, 2.0),
)
def test_hard_pairs_mines_what_the_loop_finds(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
    distance: str,
    pos_margin: float,
    neg_margin: float,
) -> None:
    """Positive pairs farther than ``pos_margin``, negative pairs closer than ``neg_margin``
    (in the distance's own units: for a similarity, "farther" is "less similar")."""
    x, y, equal = batch
    dist = _distance(distance)
    a1, p, a2, n, _ = HardPairMiner(pos_margin, neg_margin)(x, y, dist, equal)
    values = dist.matrix(x).tolist()
    (pos, neg), b = _relations(y, equal), len(y)

    def farther(v: float, t: float) -> bool:
        return v < t if dist.larger_is_closer else v > t

    want_pos = [(i, j) for i in range(b) for j in range(i + 1, b) if pos[i][j]]
    want_neg = [(i, j) for i in range(b) for j in range(i + 1, b) if neg[i][j]]
    assert list(zip(a1.tolist(), p.tolist())) == [
        (i, j) for i, j in want_pos if farther(values[i][j], pos_margin)
    ]
    assert list(zip(a2.tolist(), n.tolist())) == [
        (i, j)
        for i, j in want_neg
        if not farther(values[i][j], neg_margin) and values[i][j] != neg_margin
    ]


@given(batch=batches())
def test_distance_weighted_probabilities_are_a_distribution_over_negatives(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
) -> None:
    x, y, equal = batch
    probs = DistanceWeightedMiner().probabilities(x, y, equal)  # (B, B)
    _, neg = _relations(y, equal)
    assert bool((probs >= 0).all())
    assert bool((probs[~torch.tensor(neg, dtype=torch.bool)] == 0).all())
    sums = probs.sum(dim=1)
    assert bool((torch.isclose(sums, torch.ones_like(sums)) | (sums == 0)).all())
