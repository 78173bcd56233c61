"""One-shot scoring with the Koch head and with a distance, against plain Python loops."""

from __future__ import annotations

import math

import pytest
import torch

from siamkit.apps.omniglot.koch_head import KochHeadScore
from siamkit.apps.omniglot.oneshot import (
    across_episodes,
    episode_accuracies,
    mean_ci95,
    one_shot_table,
    within_episodes,
)
from siamkit.distances import get_distance
from siamkit.evaluation.few_shot import few_shot_accuracy
from siamkit.losses import KochLoss


def _data(n_classes: int = 12, per_class: int = 4, dim: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=g)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    emb = centres[labels] + 0.9 * torch.randn(len(labels), dim, generator=g)
    groups = ["A" if c < 6 else "B" for c in range(n_classes)]
    return emb, labels, groups


def _head(dim: int = 6, seed: int = 1) -> KochLoss:
    torch.manual_seed(seed)
    head = KochLoss(embedding_dim=dim)
    with torch.no_grad():
        head.head.weight.copy_(-torch.rand(1, dim) - 0.1)  # mostly: closer = more alike
        head.head.weight[0, 0] = 0.3  # one positive weight: not a distance, still a scorer
        head.head.bias.fill_(2.0)
    return head


def _plain_koch_accuracy(emb, ep, head: KochLoss) -> float:
    """Koch's rule by hand: the support with the highest sigmoid(w·|q - s| + c) wins."""
    w = head.head.weight.detach()[0].tolist()
    c = float(head.head.bias.detach()[0])
    right = 0
    for q, target in zip(ep.query.tolist(), ep.query_target.tolist()):
        best, best_p = -1, -1.0
        for j, row in enumerate(ep.support.tolist()):
            for s in row:
                z = c + sum(
                    wi * abs(a - b) for wi, a, b in zip(w, emb[q].tolist(), emb[s].tolist())
                )
                p = 1.0 / (1.0 + math.exp(-z))
                if p > best_p:
                    best, best_p = j, p
        right += best == target
    return right / len(ep.query)


@pytest.mark.parametrize("n_way", [2, 5])
def test_koch_head_one_shot_matches_a_plain_loop(n_way):
    emb, labels, groups = _data()
    head = _head()
    episodes = across_episodes(labels, n_way, 1, 3, episodes=20, seed=3)
    episodes += within_episodes(labels, groups, n_way, 1, 3, episodes=20, seed=4)
    got = episode_accuracies(emb, episodes, KochHeadScore(head))
    want = [_plain_koch_accuracy(emb, ep, head) for ep in episodes]
    assert got.tolist() == pytest.approx(want)


def test_koch_head_scores_pairs_and_matrices_alike():
    emb, _, _ = _data()
    head = _head()
    score = KochHeadScore(head)
    m = score.matrix(emb[:5], emb[5:9])  # (5, 4)
    assert m.shape == (5, 4)
    for i in range(5):
        assert torch.allclose(m[i], head.logits(emb[i].expand(4, -1), emb[5:9]), atol=1e-6)
    assert score.larger_is_closer and score.closeness(m) is m


def test_across_episodes_replay_few_shot_accuracy():
    emb, labels, _ = _data()
    for n_way in (5, 12):
        ref = few_shot_accuracy(emb, labels, "euclidean", n_way, 1, 15, 30, 7, "nearest")
        drawn = across_episodes(labels, n_way, 1, 15, 30, 7)
        mean, ci = mean_ci95(episode_accuracies(emb, drawn, get_distance("euclidean")))
        assert mean == pytest.approx(ref.mean, abs=1e-12)
        assert ci == pytest.approx(ref.ci95, abs=1e-12)


def test_within_episodes_stay_in_one_alphabet_and_are_seeded():
    _, labels, groups = _data()
    episodes = within_episodes(labels, groups, 5, 1, 3, episodes=40, seed=0)
    seen = set()
    for ep in episodes:
        alphabets = {groups[int(labels[i])] for i in ep.support.flatten()}
        assert len(alphabets) == 1 and len(ep.classes) == 5
        assert {groups[int(labels[i])] for i in ep.query} == alphabets
        assert labels[ep.support[:, 0]].tolist() == ep.classes.tolist()
        assert set(ep.query.tolist()).isdisjoint(ep.support.flatten().tolist())
        seen |= alphabets
    assert seen == {"A", "B"}
    again = within_episodes(labels, groups, 5, 1, 3, episodes=40, seed=0)
    assert all(torch.equal(a.query, b.query) for a, b in zip(episodes, again))
    with pytest.raises(ValueError, match="7-way within-alphabet"):
        within_episodes(labels, groups, 7, 1, 3, episodes=1, seed=0)


def test_table_scores_every_scorer_on_the_same_episodes():
    emb, labels, groups = _data()
    scorers = {"euclidean": get_distance("euclidean"), "koch_head": KochHeadScore(_head())}
    rows = one_shot_table(emb, labels, groups, scorers, ways=(12, 5), episodes=10)
    keys = [(r.protocol, r.n_way, r.scorer) for r in rows]
    # no alphabet has 12 characters: no 12-way within row
    assert keys == [
        ("within", 5, "euclidean"),
        ("within", 5, "koch_head"),
        ("across", 12, "euclidean"),
        ("across", 12, "koch_head"),
        ("across", 5, "euclidean"),
        ("across", 5, "koch_head"),
    ]
    assert [r.protocol for r in one_shot_table(emb, labels, None, scorers, (5,), episodes=3)] == [
        "across",
        "across",
    ]
