"""N-way one-shot accuracy on held-out alphabets, across them and within one, by any scorer.

Two episode protocols on the same embeddings:

* ``across``: the classes of an episode are drawn from every evaluated class, exactly the
  episodes of :func:`siamkit.evaluation.few_shot.few_shot_accuracy` for the same ``seed``
  (replayed through :func:`~siamkit.evaluation.few_shot.sample_episode`).
* ``within``: each episode first draws one alphabet (uniformly, among those with ``n_way``
  usable characters) and then its classes from that alphabet only, the harder protocol of
  Lake et al. 2015 that Koch et al. 2015 report (92.0 % 20-way one-shot on Omniglot).

A query goes to the class of its best-scoring support item (Koch's rule; with one shot it is
also the nearest prototype). A scorer is any :class:`~siamkit.distances.Distance`: the model's
own distance, or a trained Koch head (:class:`~siamkit.apps.omniglot.koch_head.KochHeadScore`). The
figure is the mean episode accuracy with a 95 % half-width ``1.96 · std / √episodes``
(population std), as in :mod:`siamkit.evaluation.few_shot`.

Example (four characters of two alphabets, five noisy embeddings of each):
    >>> from siamkit.distances import get_distance
    >>> g = torch.Generator().manual_seed(0)
    >>> labels = torch.arange(4).repeat_interleave(5)  # (20,)
    >>> emb = torch.randn(4, 8, generator=g)[labels] + 0.7 * torch.randn(20, 8, generator=g)
    >>> alphabets = ["Greek", "Greek", "Runic", "Runic"]  # the alphabet of each character
    >>> scorers = {"euclidean": get_distance("euclidean")}
    >>> rows = one_shot_table(emb, labels, alphabets, scorers, ways=(2,), n_query=2, episodes=50)
    >>> [(r.protocol, r.n_way, round(r.mean, 3)) for r in rows]
    [('within', 2, 0.975), ('across', 2, 0.94)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.evaluation.few_shot import Episode, sample_episode

Protocol = Literal["across", "within"]


class OneShotRow(NamedTuple):
    """One configuration's accuracy.

    Attributes:
        protocol: ``across`` or ``within`` (see module).
        n_way: Classes per episode.
        k_shot: Support items per class.
        scorer: Name of the scorer (a distance name, or ``koch_head``).
        mean: Mean episode accuracy in ``[0, 1]``.
        ci95: 95 % half-width of ``mean``.
        episodes: Episodes averaged.
    """

    protocol: str
    n_way: int
    k_shot: int
    scorer: str
    mean: float
    ci95: float
    episodes: int


def across_episodes(
    labels: Tensor, n_way: int, k_shot: int, n_query: int, episodes: int, seed: int
) -> list[Episode]:
    """The episodes ``few_shot_accuracy`` draws with these arguments (classes from all)."""
    g = torch.Generator().manual_seed(seed)
    return [sample_episode(labels, n_way, k_shot, n_query, g) for _ in range(episodes)]


def within_episodes(
    labels: Tensor,
    class_groups: Sequence[str],
    n_way: int,
    k_shot: int,
    n_query: int,
    episodes: int,
    seed: int,
) -> list[Episode]:
    """Episodes whose classes all come from one group (alphabet), drawn per episode.

    Args:
        labels: ``(N,)`` class labels, indices into ``class_groups``.
        class_groups: The group (alphabet) of each class label.
        n_way, k_shot, n_query, episodes, seed: As in ``few_shot_accuracy``.

    Returns:
        Episodes with indices into ``labels``.

    Raises:
        ValueError: No group has ``n_way`` classes of ``k_shot + 1`` items.
    """
    labels = torch.as_tensor(labels).cpu()
    classes, counts = torch.unique(labels, return_counts=True)
    usable = [int(c) for c, n in zip(classes, counts, strict=True) if n >= k_shot + 1]
    per_group: dict[str, list[int]] = {}
    for c in usable:
        per_group.setdefault(class_groups[c], []).append(c)
    groups = sorted(g for g, cs in per_group.items() if len(cs) >= n_way)
    if not groups:
        raise ValueError(
            f"{n_way}-way within-alphabet episodes need an alphabet with {n_way} characters of "
            f"{k_shot + 1}+ items; the largest has {max(map(len, per_group.values()), default=0)}"
        )
    members = {
        g: torch.isin(labels, torch.tensor(per_group[g])).nonzero().flatten() for g in groups
    }
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(episodes):
        group = groups[int(torch.randint(len(groups), (1,), generator=gen))]
        idx = members[group]  # (n_g,) global indices of the group's items
        ep = sample_episode(labels[idx], n_way, k_shot, n_query, gen)
        out.append(Episode(ep.classes, idx[ep.support], idx[ep.query], ep.query_target))
    return out


def episode_accuracies(embeddings: Tensor, episodes: Sequence[Episode], scorer: Distance) -> Tensor:
    """Query accuracy ``(E,)`` of each episode: a query takes its best support's class.

    Args:
        embeddings: ``(N, D)``.
        episodes: Episodes indexing ``embeddings``.
        scorer: Scores aligned pairs; ``closeness`` makes larger mean more alike.
    """
    accs = torch.empty(len(episodes), dtype=torch.float64)
    for e, ep in enumerate(episodes):
        k_shot = ep.support.shape[1]
        refs = embeddings[ep.support.flatten()]  # (n_way * k_shot, D)
        queries = embeddings[ep.query]  # (Q, D)
        q, r = len(queries), len(refs)
        a = queries.unsqueeze(1).expand(-1, r, -1).reshape(q * r, -1)  # (Q * R, D)
        b = refs.unsqueeze(0).expand(q, -1, -1).reshape(q * r, -1)  # (Q * R, D)
        values = scorer.pairwise(a, b).view(q, r)  # (Q, R)
        pred = scorer.closeness(values).argmax(dim=1).cpu() // k_shot  # (Q,) episode class
        accs[e] = (pred == ep.query_target).double().mean()
    return accs


def mean_ci95(accuracies: Tensor | np.ndarray) -> tuple[float, float]:
    """Mean and 95 % half-width ``1.96 · std / √n`` (population std) of episode accuracies."""
    acc = np.asarray(accuracies, dtype=np.float64)
    if acc.size == 0:
        raise ValueError("no episode accuracies to summarise")
    return float(acc.mean()), float(1.96 * acc.std() / math.sqrt(acc.size))


def one_shot_table(
    embeddings: Tensor,
    labels: Tensor,
    class_groups: Sequence[str] | None,
    scorers: Mapping[str, Distance],
    ways: Sequence[int] = (20, 5),
    k_shot: int = 1,
    n_query: int = 15,
    episodes: int = 400,
    seed: int = 0,
) -> list[OneShotRow]:
    """Every (protocol, n_way) x scorer row; all scorers are scored on the same episodes.

    ``within`` rows are left out when ``class_groups`` is None (no alphabets known) or no
    alphabet has ``n_way`` characters.

    Args:
        embeddings: ``(N, D)``.
        labels: ``(N,)`` class labels.
        class_groups: The alphabet of each class label, or None.
        scorers: Name -> scorer.
        ways: The ``n_way`` values.
        k_shot, n_query, episodes, seed: As in ``few_shot_accuracy``.
    """
    labels = torch.as_tensor(labels).cpu()
    rows: list[OneShotRow] = []
    protocols: list[Protocol] = ["within", "across"] if class_groups is not None else ["across"]
    for protocol in protocols:
        for n_way in ways:
            if protocol == "within":
                assert class_groups is not None
                try:
                    drawn = within_episodes(
                        labels, class_groups, n_way, k_shot, n_query, episodes, seed
                    )
                except ValueError:
                    continue
            else:
                drawn = across_episodes(labels, n_way, k_shot, n_query, episodes, seed)
            for name, scorer in scorers.items():
                mean, ci = mean_ci95(episode_accuracies(embeddings, drawn, scorer))
                rows.append(OneShotRow(protocol, n_way, k_shot, name, mean, ci, episodes))
    return rows
