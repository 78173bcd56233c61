"""Few-shot classification accuracy of fixed embeddings, averaged over random episodes.

An episode draws ``n_way`` classes, ``k_shot`` labelled support items of each and a disjoint
set of query items of the same classes; the query items are classified from the support set
alone, so the figure measures how well the embedding separates classes it may never have been
trained on (the protocol of Vinyals et al. 2016 and Snell et al. 2017). The reported figure is
the mean per-episode accuracy with a 95 % confidence half-width, as in those papers.

Example:
    >>> from sklearn.datasets import load_digits
    >>> x, y = load_digits(return_X_y=True)  # 64-d pixel vectors as embeddings
    >>> emb, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    >>> r = few_shot_accuracy(emb, labels, "euclidean", n_way=5, k_shot=1, episodes=100)
    >>> print(f"{r.mean:.3f} ± {r.ci95:.3f}")
    0.755 ± 0.018
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple, get_args

import numpy as np
import torch
from torch import Tensor

from siamkit.distances import Distance, get_distance

FewShotMethod = Literal["prototype", "nearest"]
_METHODS: tuple[str, ...] = get_args(FewShotMethod)


class FewShotResult(NamedTuple):
    """Accuracy of one few-shot configuration.

    Attributes:
        n_way: Classes per episode.
        k_shot: Support items per class.
        method: ``"prototype"`` or ``"nearest"``.
        mean: Mean query accuracy over the episodes, in ``[0, 1]``.
        ci95: Half-width of the 95 % confidence interval of ``mean``:
            ``1.96 * std / sqrt(episodes)`` (population std of the per-episode accuracies,
            as in the reference few-shot code).
        episodes: Number of episodes averaged.
    """

    n_way: int
    k_shot: int
    method: str
    mean: float
    ci95: float
    episodes: int


class Episode(NamedTuple):
    """The items of one episode, as indices into the embeddings.

    Attributes:
        classes: ``(n_way,)`` label values of the episode's classes; position ``j`` is the
            episode class ``j``.
        support: ``(n_way, k_shot)`` item indices; row ``j`` belongs to ``classes[j]``.
        query: ``(Q,)`` item indices, disjoint from ``support``.
        query_target: ``(Q,)`` episode class (row of ``support``) of each query item.
    """

    classes: Tensor
    support: Tensor
    query: Tensor
    query_target: Tensor


def few_shot_accuracy(
    embeddings: Tensor,
    labels: Tensor,
    distance: str | Distance,
    n_way: int,
    k_shot: int,
    n_query: int = 15,
    episodes: int = 600,
    seed: int = 0,
    method: FewShotMethod = "prototype",
) -> FewShotResult:
    """Mean accuracy of ``n_way``-way ``k_shot``-shot classification over random episodes.

    Only classes with at least ``k_shot + 1`` items take part. Each episode draws ``n_way`` of
    them, then for each class ``k_shot`` support items and ``min(n_query, count - k_shot)``
    query items, disjoint from the support (so small classes give fewer queries, at least 1).
    Episode accuracy is the share of its queries classified correctly:

    * ``"prototype"``: the class whose prototype (mean of its support embeddings) is closest
      under ``distance`` (Snell et al. 2017, "Prototypical Networks for Few-shot Learning").
    * ``"nearest"``: the class of the single closest support item, as in Koch et al. 2015
      ("Siamese Neural Networks for One-shot Image Recognition"); with ``k_shot > 1`` this is
      1-nearest-neighbour over all support items.

    Exact ties go to the first episode class (``torch.argmax``). The episodes are a function of
    ``labels``, ``n_way``, ``k_shot``, ``n_query``, ``episodes`` and ``seed`` only; they can be
    replayed with :func:`sample_episode` and ``torch.Generator().manual_seed(seed)``.

    Args:
        embeddings: ``(N, D)`` embeddings.
        labels: ``(N,)`` integer class labels.
        distance: A :class:`~siamkit.distances.Distance` or its registered name.
        n_way: Classes per episode (>= 2).
        k_shot: Support items per class (>= 1).
        n_query: Query items per class, fewer for classes that are too small.
        episodes: Episodes to average (>= 1).
        seed: Seed of the episode sampler.
        method: ``"prototype"`` or ``"nearest"``.

    Returns:
        A :class:`FewShotResult`.

    Raises:
        ValueError: On bad shapes or arguments, or when fewer than ``n_way`` classes have
            ``k_shot + 1`` items (the message says how many do).

    Example:
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)  # 64-d pixel vectors as embeddings
        >>> emb, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
        >>> r = few_shot_accuracy(emb, labels, "cosine", n_way=5, k_shot=5, episodes=100)
        >>> round(r.mean, 3)
        0.899
    """
    dist = get_distance(distance)
    labels = _check_inputs(embeddings, labels)
    _check_args(n_way, k_shot, n_query, method)
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    pools = _class_pools(labels, k_shot, n_way)
    g = torch.Generator().manual_seed(seed)
    drawn = [_sample_from_pools(pools, n_way, k_shot, n_query, g) for _ in range(episodes)]
    accs = _episode_accuracies(embeddings, drawn, dist, method)  # (episodes,)
    return FewShotResult(
        n_way=n_way,
        k_shot=k_shot,
        method=method,
        mean=float(accs.mean()),
        ci95=float(1.96 * accs.std() / math.sqrt(episodes)),
        episodes=episodes,
    )


def few_shot_suite(
    embeddings: Tensor,
    labels: Tensor,
    distance: str | Distance,
    episodes: int = 600,
    seed: int = 0,
) -> list[FewShotResult]:
    """The usual few-shot table: 5-way 1-shot, 5-way 5-shot, 20-way 1-shot, and 1-NN.

    Runs, in this order, with ``"prototype"``: 5-way 1-shot, 5-way 5-shot (if at least 5
    classes have 6+ items) and 20-way 1-shot (if at least 20 classes have 2+ items); then
    5-way 1-shot with ``"nearest"`` (Koch-style one-shot). Every configuration uses the same
    ``seed``, so the two 5-way 1-shot rows are scored on the very same episodes.

    Args:
        embeddings: ``(N, D)`` embeddings.
        labels: ``(N,)`` integer class labels.
        distance: A :class:`~siamkit.distances.Distance` or its registered name.
        episodes: Episodes per configuration.
        seed: Seed of the episode sampler.

    Returns:
        One :class:`FewShotResult` per configuration run.

    Raises:
        ValueError: When fewer than 5 classes have 2+ items (not even 5-way 1-shot can run).

    Example:
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)  # 64-d pixel vectors as embeddings
        >>> emb, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
        >>> for r in few_shot_suite(emb, labels, "euclidean", episodes=100):
        ...     print(r.n_way, r.k_shot, r.method, round(r.mean, 3))
        5 1 prototype 0.755
        5 5 prototype 0.899
        5 1 nearest 0.755
    """
    labels = _check_inputs(embeddings, labels)
    _, counts = torch.unique(labels, return_counts=True)
    configs: list[tuple[int, int, FewShotMethod]] = [(5, 1, "prototype")]
    if int((counts >= 6).sum()) >= 5:
        configs.append((5, 5, "prototype"))
    if int((counts >= 2).sum()) >= 20:
        configs.append((20, 1, "prototype"))
    configs.append((5, 1, "nearest"))
    return [
        few_shot_accuracy(
            embeddings,
            labels,
            distance,
            n_way=n_way,
            k_shot=k_shot,
            episodes=episodes,
            seed=seed,
            method=method,
        )
        for n_way, k_shot, method in configs
    ]


def sample_episode(
    labels: Tensor, n_way: int, k_shot: int, n_query: int, generator: torch.Generator
) -> Episode:
    """Draw one episode (the sampler behind :func:`few_shot_accuracy`, exposed for replay).

    Calling it ``episodes`` times with ``torch.Generator().manual_seed(seed)`` gives exactly the
    episodes :func:`few_shot_accuracy` scores with that ``seed``.

    Args:
        labels: ``(N,)`` integer class labels.
        n_way: Classes per episode.
        k_shot: Support items per class.
        n_query: Query items per class, fewer for small classes (at least 1).
        generator: The random source; advanced by the draw.

    Returns:
        An :class:`Episode`.

    Example:
        >>> labels = torch.arange(10).repeat_interleave(20)  # 10 classes of 20 items
        >>> ep = sample_episode(labels, 5, 1, 15, torch.Generator().manual_seed(0))
        >>> ep.support.shape, ep.query.shape  # 5 classes: 1 support and 15 query items each
        (torch.Size([5, 1]), torch.Size([75]))
    """
    labels = torch.as_tensor(labels)
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D (N,); got shape {tuple(labels.shape)}")
    _check_args(n_way, k_shot, n_query, "prototype")
    pools = _class_pools(labels, k_shot, n_way)
    return _sample_from_pools(pools, n_way, k_shot, n_query, generator)


def _class_pools(labels: Tensor, k_shot: int, n_way: int) -> list[tuple[int, Tensor]]:
    """(label, item indices) of each class with at least ``k_shot + 1`` items, by label."""
    classes, counts = torch.unique(labels, return_counts=True)
    keep = classes[counts >= k_shot + 1].tolist()
    if len(keep) < n_way:
        raise ValueError(
            f"{n_way}-way {k_shot}-shot episodes need {n_way} classes with at least "
            f"{k_shot + 1} items each (k_shot support + 1 query); only {len(keep)} of "
            f"{len(classes)} classes qualify. Lower n_way or k_shot, or evaluate on more data."
        )
    return [(int(c), (labels == c).nonzero().flatten()) for c in keep]


def _sample_from_pools(
    pools: list[tuple[int, Tensor]],
    n_way: int,
    k_shot: int,
    n_query: int,
    g: torch.Generator,
) -> Episode:
    chosen = torch.randperm(len(pools), generator=g)[:n_way].tolist()
    classes, support, query, target = [], [], [], []
    for j, p in enumerate(chosen):
        label, members = pools[p]
        order = members[torch.randperm(len(members), generator=g)]
        n_q = max(1, min(n_query, len(members) - k_shot))
        classes.append(label)
        support.append(order[:k_shot])
        query.append(order[k_shot : k_shot + n_q])
        target.append(torch.full((n_q,), j, dtype=torch.long))
    return Episode(
        classes=torch.tensor(classes),  # (n_way,)
        support=torch.stack(support),  # (n_way, k_shot)
        query=torch.cat(query),  # (Q,)
        query_target=torch.cat(target),  # (Q,)
    )


# Episodes are scored in groups holding at most this many elements of paired inputs
# (queries x references x D): a few calls instead of one per episode, bounded memory.
_GROUP_ELEMENTS = 1 << 22


def _episode_accuracies(
    embeddings: Tensor, episodes: list[Episode], dist: Distance, method: str
) -> np.ndarray:
    """Query accuracy ``(E,)`` of each episode, scored a group of episodes at a time."""
    accs: list[Tensor] = []
    start = 0
    while start < len(episodes):
        end, size = start, 0
        while end < len(episodes) and (end == start or size < _GROUP_ELEMENTS):
            ep = episodes[end]
            size += len(ep.query) * ep.support.numel() * embeddings.shape[1]
            end += 1
        accs.append(_group_accuracies(embeddings, episodes[start:end], dist, method))
        start = end
    return torch.cat(accs).numpy()


def _group_accuracies(
    embeddings: Tensor, group: list[Episode], dist: Distance, method: str
) -> Tensor:
    """Query accuracy ``(B,)`` of each of ``B`` episodes with the same ``n_way`` and ``k_shot``.

    Each query is compared with the references of its own episode only, through
    ``Distance.pairwise`` on aligned (query, reference) rows.
    """
    k_shot = group[0].support.shape[1]
    support = embeddings[torch.stack([ep.support for ep in group])]  # (B, n_way, k_shot, D)
    # References: prototypes (B, n_way, D), or all support items (B, n_way * k_shot, D).
    refs = support.mean(dim=2) if method == "prototype" else support.flatten(1, 2)
    n_refs, dim = refs.shape[1], refs.shape[2]
    counts = torch.tensor([len(ep.query) for ep in group])  # (B,)
    owner = torch.repeat_interleave(torch.arange(len(group)), counts)  # (Q,) episode of query
    queries = embeddings[torch.cat([ep.query for ep in group])]  # (Q, D)
    a = queries.unsqueeze(1).expand(-1, n_refs, -1).reshape(-1, dim)  # (Q * n_refs, D)
    b = refs[owner.to(refs.device)].reshape(-1, dim)  # (Q * n_refs, D)
    values = dist.pairwise(a, b).view(-1, n_refs)  # (Q, n_refs)
    pred = dist.closeness(values).argmax(dim=1).cpu()  # (Q,), first of equal ones
    if method == "nearest":
        pred = pred // k_shot
    right = (pred == torch.cat([ep.query_target for ep in group])).double()  # (Q,)
    return torch.zeros(len(group), dtype=torch.float64).index_add_(0, owner, right) / counts


def _check_inputs(embeddings: Tensor, labels: Tensor) -> Tensor:
    labels = torch.as_tensor(labels)
    if embeddings.dim() != 2:
        raise ValueError(f"embeddings must be 2-D (N, D); got shape {tuple(embeddings.shape)}")
    if labels.dim() != 1 or len(labels) != len(embeddings):
        raise ValueError(
            f"labels must be 1-D with one entry per embedding ({len(embeddings)}); got shape "
            f"{tuple(labels.shape)}"
        )
    return labels.cpu()  # the sampler works on the CPU; indices then select on any device


def _check_args(n_way: int, k_shot: int, n_query: int, method: str) -> None:
    if n_way < 2:
        raise ValueError(f"n_way must be >= 2 (one class is always right), got {n_way}")
    if k_shot < 1 or n_query < 1:
        raise ValueError(f"k_shot and n_query must be >= 1, got k_shot={k_shot}, n_query={n_query}")
    if method not in _METHODS:
        raise ValueError(
            f"unknown few-shot method {method!r}; choose one of: {', '.join(_METHODS)}"
        )
