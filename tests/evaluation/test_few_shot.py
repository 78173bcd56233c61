"""Few-shot accuracy against a plain-loop replay of the same episodes, clean clusters and chance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

from siamkit.distances import Distance, get_distance
from siamkit.evaluation import few_shot
from siamkit.evaluation.few_shot import (
    Episode,
    FewShotResult,
    few_shot_accuracy,
    few_shot_suite,
    sample_episode,
)


class _DotSimilarity(Distance):
    """A similarity (larger = closer), to exercise that branch."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


# Test data are float64: on a busy 2-core machine, float32 sqrt runs through a threaded kernel
# that can take milliseconds per tiny call; float64 keeps these tests fast.


def _clusters(
    n_classes: int, per_class: int, seed: int = 0, noise: float = 0.01
) -> tuple[Tensor, Tensor]:
    """Tight clusters on far-apart, non-collinear centres (10 · one-hot + 1)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    centres = 10.0 * torch.eye(n_classes, dtype=torch.float64) + 1.0
    x = centres[labels] + noise * torch.randn(
        len(labels), n_classes, generator=g, dtype=torch.float64
    )
    return x, labels


def _noisy(n_classes: int, per_class: int, seed: int) -> tuple[Tensor, Tensor]:
    """Overlapping clusters: accuracy well between chance and 1."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    centres = rng.normal(size=(n_classes, 4))
    x = centres[labels] + rng.normal(scale=0.8, size=(len(labels), 4))
    return torch.from_numpy(x), torch.from_numpy(labels)


def _loop_distance(name: str, a: list[float], b: list[float]) -> float:
    """Closeness of two vectors by hand: larger = closer."""
    if name == "euclidean":
        return -math.sqrt(sum((u - v) ** 2 for u, v in zip(a, b)))
    if name == "manhattan":
        return -sum(abs(u - v) for u, v in zip(a, b))
    if name == "dot":
        return sum(u * v for u, v in zip(a, b))
    raise AssertionError(name)


def _loop_episode_accuracy(x: Tensor, labels: Tensor, ep: Episode, name: str, method: str) -> float:
    """One episode scored with Python lists only, from the episode's indices."""
    rows = x.tolist()
    n_way, k_shot = ep.support.shape
    support = [[rows[i] for i in ep.support[j].tolist()] for j in range(n_way)]
    if method == "prototype":
        refs = [([sum(col) / k_shot for col in zip(*s)], j) for j, s in enumerate(support)]
    else:
        refs = [(item, j) for j, s in enumerate(support) for item in s]
    right = 0
    for qi, target in zip(ep.query.tolist(), ep.query_target.tolist()):
        best, best_j = -math.inf, -1
        for ref, j in refs:
            c = _loop_distance(name, rows[qi], ref)
            if c > best:  # strict: the first of equal ones wins, as argmax
                best, best_j = c, j
        right += best_j == target
        assert labels[qi] == ep.classes[target]
    return right / len(ep.query)


@pytest.mark.parametrize("name", ["euclidean", "manhattan", "dot"])
@pytest.mark.parametrize(("method", "k_shot"), [("prototype", 1), ("prototype", 3), ("nearest", 3)])
def test_matches_plain_loop_replay(name: str, method: str, k_shot: int) -> None:
    x, labels = _noisy(n_classes=7, per_class=6, seed=1)
    labels[:3] = 99  # a class of 3 items: 2 queries at k_shot=1, excluded at k_shot=3
    dist = _DotSimilarity() if name == "dot" else get_distance(name)
    episodes = 25
    got = few_shot_accuracy(
        x,
        labels,
        dist,
        n_way=4,
        k_shot=k_shot,
        n_query=5,
        episodes=episodes,
        seed=3,
        method=method,  # type: ignore[arg-type]
    )
    g = torch.Generator().manual_seed(3)
    accs = [
        _loop_episode_accuracy(x, labels, sample_episode(labels, 4, k_shot, 5, g), name, method)
        for _ in range(episodes)
    ]
    assert 0.3 < float(np.mean(accs)) < 0.99  # a meaningful case
    assert got == FewShotResult(4, k_shot, method, got.mean, got.ci95, episodes)
    assert got.mean == pytest.approx(np.mean(accs), abs=1e-12)
    assert got.ci95 == pytest.approx(1.96 * np.std(accs) / math.sqrt(episodes), abs=1e-12)


def test_episode_structure() -> None:
    # Class sizes 2, 3, 4, 10, 20 (+ a singleton that can never take part).
    sizes = {0: 2, 1: 3, 2: 4, 3: 10, 4: 20, 5: 1}
    labels = torch.tensor([c for c, n in sizes.items() for _ in range(n)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        ep = sample_episode(labels, n_way=5, k_shot=1, n_query=4, generator=g)
        assert sorted(ep.classes.tolist()) == [0, 1, 2, 3, 4]  # 5 never qualifies
        assert ep.support.shape == (5, 1)
        support = set(ep.support.flatten().tolist())
        assert support.isdisjoint(ep.query.tolist())
        assert len(set(ep.query.tolist())) == len(ep.query)
        for j, c in enumerate(ep.classes.tolist()):
            assert (labels[ep.support[j]] == c).all()
            n_q = int((ep.query_target == j).sum())
            assert n_q == min(4, sizes[c] - 1)  # capped by the class size
            assert (labels[ep.query[ep.query_target == j]] == c).all()


@pytest.mark.parametrize("name", ["euclidean", "manhattan", "cosine", "squared_euclidean"])
@pytest.mark.parametrize("method", ["prototype", "nearest"])
def test_separated_clusters_are_perfect(name: str, method: str) -> None:
    x, labels = _clusters(n_classes=8, per_class=7)
    r = few_shot_accuracy(x, labels, name, 5, 5, episodes=30, method=method)  # type: ignore[arg-type]
    assert (r.mean, r.ci95) == (1.0, 0.0)


@pytest.mark.parametrize(("n_way", "k_shot"), [(2, 1), (5, 1), (5, 5)])
def test_random_embeddings_score_chance(n_way: int, k_shot: int) -> None:
    # Many classes, so episodes rarely share items: a small fixed set has accidental structure
    # of its own, which the CI (over episodes of that one set) does not cover.
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(300).repeat_interleave(25)
    x = torch.randn(len(labels), 8, generator=g, dtype=torch.float64)  # unrelated to labels
    r = few_shot_accuracy(x, labels, "euclidean", n_way, k_shot, n_query=10, episodes=200)
    assert r.ci95 > 0
    # ci95 is ~2 standard errors: allow ~4 (a fixed seed, so never flaky either way).
    assert abs(r.mean - 1 / n_way) < 2 * r.ci95


@pytest.mark.parametrize("method", ["prototype", "nearest"])
def test_scoring_in_groups_changes_nothing(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x, labels = _noisy(n_classes=9, per_class=5, seed=4)
    args = (x, labels, "euclidean", 4, 2)
    whole = few_shot_accuracy(*args, episodes=30, method=method)  # type: ignore[arg-type]
    monkeypatch.setattr(few_shot, "_GROUP_ELEMENTS", 500)  # a few episodes per group
    grouped = few_shot_accuracy(*args, episodes=30, method=method)  # type: ignore[arg-type]
    monkeypatch.setattr(few_shot, "_GROUP_ELEMENTS", 1)  # one episode per group
    single = few_shot_accuracy(*args, episodes=30, method=method)  # type: ignore[arg-type]
    assert whole == grouped == single


def test_one_shot_prototype_equals_nearest() -> None:
    x, labels = _noisy(n_classes=9, per_class=5, seed=4)
    p = few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=50, method="prototype")
    n = few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=50, method="nearest")
    assert p.mean == n.mean  # one support item per class is its own prototype


def test_reproducible_by_seed() -> None:
    x, labels = _noisy(n_classes=9, per_class=5, seed=4)
    a = few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=40, seed=7)
    b = few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=40, seed=7)
    c = few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=40, seed=8)
    assert a == b
    assert a.mean != c.mean
    torch.manual_seed(123)  # the global RNG plays no part
    assert few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=40, seed=7) == a


def test_suite_configurations() -> None:
    x, labels = _clusters(n_classes=22, per_class=6)  # 6 items: 5-shot qualifies
    rows = few_shot_suite(x, labels, "euclidean", episodes=5)
    assert [(r.n_way, r.k_shot, r.method) for r in rows] == [
        (5, 1, "prototype"),
        (5, 5, "prototype"),
        (20, 1, "prototype"),
        (5, 1, "nearest"),
    ]
    assert rows[0] == few_shot_accuracy(x, labels, "euclidean", 5, 1, episodes=5)
    assert all(r.mean == 1.0 and r.episodes == 5 for r in rows)


def test_suite_skips_what_does_not_qualify() -> None:
    x, labels = _clusters(n_classes=8, per_class=5)  # < 20 classes, 5 items: no 5-shot
    rows = few_shot_suite(x, labels, "euclidean", episodes=5)
    assert [(r.n_way, r.k_shot, r.method) for r in rows] == [
        (5, 1, "prototype"),
        (5, 1, "nearest"),
    ]
    x, labels = _clusters(n_classes=4, per_class=5)
    with pytest.raises(ValueError, match="only 4 of 4 classes qualify"):
        few_shot_suite(x, labels, "euclidean", episodes=5)


def test_too_few_qualifying_classes_says_how_many() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 4])  # 3+ items: classes 0, 1
    x = torch.randn(10, 2)
    with pytest.raises(ValueError, match=r"need 3 classes with at least 3 items.*only 2 of 5"):
        few_shot_accuracy(x, labels, "euclidean", n_way=3, k_shot=2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_way": 1}, "n_way must be >= 2"),
        ({"k_shot": 0}, "k_shot and n_query must be >= 1"),
        ({"n_query": 0}, "k_shot and n_query must be >= 1"),
        ({"episodes": 0}, "episodes must be >= 1"),
        ({"method": "protonet"}, "unknown few-shot method 'protonet'; choose one of: prototype"),
        ({"distance": "cosin"}, "unknown distance 'cosin'"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    x, labels = _clusters(n_classes=6, per_class=3)
    args: dict = {"distance": "euclidean", "n_way": 5, "k_shot": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        few_shot_accuracy(x, labels, **args)


def test_bad_shapes() -> None:
    with pytest.raises(ValueError, match="embeddings must be 2-D"):
        few_shot_accuracy(torch.zeros(6), torch.zeros(6), "euclidean", 2, 1)
    with pytest.raises(ValueError, match=r"one entry per embedding \(6\); got shape \(5,\)"):
        few_shot_accuracy(torch.zeros(6, 2), torch.zeros(5), "euclidean", 2, 1)
