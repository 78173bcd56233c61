"""Open-set identification against a hand-worked 1-D example and a plain-loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.open_set import (
    GalleryProbeSplit,
    OpenSetMetrics,
    OperatingPoint,
    gallery_probe_split,
    open_set_identification,
)


class _NegEuclidean(Distance):
    """Minus the Euclidean distance: a similarity ranking exactly like the distance."""

    name = "neg_euclidean"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return -(a - b).norm(dim=1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return -(a.unsqueeze(1) - b.unsqueeze(0)).norm(dim=2)


# 1-D, hand-worked. Gallery: identity 0 at 0, 1 at 100, 2 at 200.
GALLERY = torch.tensor([[0.0], [100.0], [200.0]], dtype=torch.float64)
GALLERY_Y = torch.tensor([0, 1, 2])
# Mated probes:                 top-1        distance  right?
#   label 0 at   5  ->  identity 0     5         yes
#   label 1 at 110  ->  identity 1    10         yes
#   label 2 at 230  ->  identity 2    30         yes
#   label 0 at  90  ->  identity 1    10         no
# Non-mated probes (labels 7, 8, 9 are not enrolled):
#   at 50 -> 50 (0 and 1 tie), at 155 -> 45, at 8 -> 8, at 280 -> 80, at 120 -> 20
# Non-mated top-1 distances in order: 8, 20, 45, 50, 80 (Nn = 5).
PROBE = torch.tensor(
    [[5.0], [110.0], [230.0], [90.0], [50.0], [155.0], [8.0], [280.0], [120.0]],
    dtype=torch.float64,
)
PROBE_Y = torch.tensor([0, 1, 2, 0, 7, 7, 8, 8, 9])

# target FPIR -> (non-mated distance that must fail, DIR, achieved FPIR)
#   0.0: m = 0, must fail 8  -> passes d < 8:  mated 5             -> DIR 1/4, FPIR 0
#   0.2: m = 1, must fail 20 -> passes d < 20: mated 5, 10 (10 wrong) -> DIR 2/4, FPIR 1/5
#   0.5: m = 2, must fail 45 -> passes d < 45: all mated, non 8, 20 -> DIR 3/4, FPIR 2/5
#   1.0: m = 5: everything passes                                   -> DIR 3/4, FPIR 1
HAND = {
    0.0: (8.0, 0.25, 0.0),
    0.2: (20.0, 0.5, 0.2),
    0.5: (45.0, 0.75, 0.4),
    1.0: (math.inf, 0.75, 1.0),
}


@pytest.mark.parametrize("chunk_size", [1, 4, 1024])
def test_hand_made_dir_at_fpir(chunk_size: int) -> None:
    m = open_set_identification(
        GALLERY,
        GALLERY_Y,
        PROBE,
        PROBE_Y,
        "euclidean",
        fpir_targets=tuple(HAND),
        chunk_size=chunk_size,
    )
    assert isinstance(m, OpenSetMetrics)
    assert (m.num_mated, m.num_non_mated, m.rank1) == (4, 5, 0.75)
    assert m.at_threshold is None
    for p, (target, (bar, dir_, fpir)) in zip(m.at_fpir, HAND.items()):
        assert (p.target_fpir, p.dir, p.fpir, p.unknown_correct_rate) == (
            target,
            dir_,
            fpir,
            1 - fpir,
        )
        # The most lenient threshold: just below the first non-mated distance that must fail.
        assert p.threshold == (math.inf if math.isinf(bar) else math.nextafter(bar, -math.inf))


def test_hand_made_given_threshold_is_inclusive() -> None:
    # <= 10: mated 5, 10, 10 (one wrong) -> DIR 2/4; non-mated 8 -> FPIR 1/5.
    m = open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y, "euclidean", threshold=10.0)
    assert m.at_threshold == OperatingPoint(10.0, 0.5, 0.2, 0.8, None)
    # <= 20 takes the non-mated probe at exactly 20 too.
    m = open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y, "euclidean", threshold=20.0)
    assert m.at_threshold == OperatingPoint(20.0, 0.5, 0.4, 0.6, None)
    m = open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y, "euclidean", threshold=4.9)
    assert m.at_threshold == OperatingPoint(4.9, 0.0, 0.0, 1.0, None)


def test_similarity_gives_the_same_figures_with_negated_thresholds() -> None:
    sim = open_set_identification(
        GALLERY,
        GALLERY_Y,
        PROBE,
        PROBE_Y,
        _NegEuclidean(),
        threshold=-10.0,
        fpir_targets=tuple(HAND),
    )
    dist = open_set_identification(
        GALLERY, GALLERY_Y, PROBE, PROBE_Y, "euclidean", threshold=10.0, fpir_targets=tuple(HAND)
    )
    assert dist.at_threshold is not None
    assert sim.at_threshold == dist.at_threshold._replace(threshold=-10.0)
    for s, d in zip(sim.at_fpir, dist.at_fpir):
        assert s == d._replace(threshold=-d.threshold)


def _loop_reference(
    g: np.ndarray, gy: np.ndarray, p: np.ndarray, py: np.ndarray
) -> list[tuple[bool, bool, float]]:
    """Per probe by hand: (mated, right identity, top-1 Euclidean distance)."""
    rows = []
    for x, y in zip(p, py):
        d = [math.sqrt(sum((u - v) ** 2 for u, v in zip(x, gx))) for gx in g]
        best = min(range(len(g)), key=lambda j: d[j])  # first of equal ones
        rows.append((y in set(gy.tolist()), bool(gy[best] == y), d[best]))
    return rows


@pytest.mark.parametrize("seed", range(3))
def test_random_data_matches_a_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 12, size=120)
    x = rng.normal(scale=1.2, size=(12, 3))[labels] + rng.normal(size=(120, 3))
    split = gallery_probe_split(torch.from_numpy(labels), 0.3, gallery_per_class=2, seed=seed)
    g, gy = x[split.gallery.numpy()], labels[split.gallery.numpy()]
    p, py = x[split.probe.numpy()], labels[split.probe.numpy()]
    targets = (0.0, 0.05, 0.1, 0.3)
    thr = 1.0
    m = open_set_identification(
        torch.from_numpy(g),
        torch.from_numpy(gy),
        torch.from_numpy(p),
        torch.from_numpy(py),
        "euclidean",
        threshold=thr,
        fpir_targets=targets,
        chunk_size=7,
    )
    rows = _loop_reference(g, gy, p, py)
    mated = [r for r in rows if r[0]]
    non = sorted(r[2] for r in rows if not r[0])
    assert (m.num_mated, m.num_non_mated) == (len(mated), len(non))
    assert m.rank1 == pytest.approx(sum(r[1] for r in mated) / len(mated))
    want_dir = sum(r[1] and r[2] <= thr for r in mated) / len(mated)
    want_fpir = sum(d <= thr for d in non) / len(non)
    assert m.at_threshold == pytest.approx(
        OperatingPoint(thr, want_dir, want_fpir, 1 - want_fpir, None)
    )
    for point, target in zip(m.at_fpir, targets):
        allowed = math.floor(target * len(non) + 1e-9)
        bar = non[allowed]  # the closest non-mated score that must fail
        assert point.fpir <= target
        assert point.fpir == pytest.approx(sum(d < bar for d in non) / len(non))
        assert point.dir == pytest.approx(sum(r[1] and r[2] < bar for r in mated) / len(mated))
        # Any looser threshold, up to that score, breaks the target.
        assert sum(d <= bar for d in non) / len(non) > target


def test_threshold_at_fpir_reproduces_its_point() -> None:
    # float32 embeddings: the threshold must round-trip through a Python float.
    rng = np.random.default_rng(5)
    labels = torch.from_numpy(rng.integers(0, 20, size=200))
    x = torch.from_numpy(rng.normal(size=(200, 4)).astype(np.float32))
    s = gallery_probe_split(labels, 0.4, seed=1)
    args = (x[s.gallery], labels[s.gallery], x[s.probe], labels[s.probe], "cosine")
    for p in open_set_identification(*args, fpir_targets=(0.01, 0.1, 0.5)).at_fpir:
        again = open_set_identification(*args, threshold=p.threshold, fpir_targets=()).at_threshold
        assert again == p._replace(target_fpir=None)


def test_gallery_probe_split() -> None:
    labels = torch.tensor([c for c in range(10) for _ in range(c % 4 + 1)])  # sizes 1..4
    s = gallery_probe_split(labels, unknown_fraction=0.3, gallery_per_class=2, seed=3)
    assert isinstance(s, GalleryProbeSplit)
    g, p = s.gallery.tolist(), s.probe.tolist()
    assert g == sorted(g) and p == sorted(p)
    assert sorted(g + p) == list(range(len(labels)))  # a partition
    known = set(labels[s.gallery].tolist())
    unknown = set(range(10)) - known
    assert len(unknown) == 3  # round(0.3 * 10)
    for c in range(10):
        members = (labels == c).nonzero().flatten().tolist()
        in_gallery = [i for i in members if i in g]
        assert len(in_gallery) == (0 if c in unknown else min(2, len(members)))
    again, other = (
        gallery_probe_split(labels, 0.3, 2, seed=3),
        gallery_probe_split(labels, 0.3, 2, 4),
    )
    assert torch.equal(again.gallery, s.gallery) and torch.equal(again.probe, s.probe)
    assert not torch.equal(other.gallery, s.gallery)


def test_split_keeps_at_least_one_known_and_one_unknown() -> None:
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    assert len(set(labels[gallery_probe_split(labels, 0.01).gallery].tolist())) == 2
    assert len(set(labels[gallery_probe_split(labels, 0.99).gallery].tolist())) == 1
    assert len(gallery_probe_split(labels, 0.0).gallery) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unknown_fraction": 1.0}, r"unknown_fraction must lie in \[0, 1\), got 1.0"),
        ({"gallery_per_class": 0}, "gallery_per_class must be >= 1, got 0"),
        ({"labels": torch.zeros(4)}, "at least 2 identities.*got 1"),
        ({"labels": torch.zeros(2, 2)}, "labels must be 1-D"),
    ],
)
def test_split_errors(kwargs: dict, match: str) -> None:
    args: dict = {"labels": torch.tensor([0, 1, 2]), **kwargs}
    with pytest.raises(ValueError, match=match):
        gallery_probe_split(**args)


def test_open_set_errors() -> None:
    with pytest.raises(ValueError, match=r"0 mated and 5 non-mated.*gallery_probe_split"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE[4:], PROBE_Y[4:])
    with pytest.raises(ValueError, match="4 mated and 0 non-mated"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE[:4], PROBE_Y[:4])
    with pytest.raises(ValueError, match=r"fpir_targets must lie in \[0, 1\]; got \[1.5\]"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y, fpir_targets=(0.1, 1.5))
    with pytest.raises(ValueError, match="threshold is NaN"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y, threshold=math.nan)
    with pytest.raises(ValueError, match=r"probe_y must be 1-D with one label per embedding \(9\)"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE, PROBE_Y[:3])
    with pytest.raises(ValueError, match="non-empty gallery"):
        open_set_identification(GALLERY[:0], GALLERY_Y[:0], PROBE, PROBE_Y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        open_set_identification(GALLERY, GALLERY_Y, PROBE * math.nan, PROBE_Y)
