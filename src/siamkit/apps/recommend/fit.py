"""Train the item tower on co-interaction pairs with siamkit's NT-Xent / MNRL loss.

Each batch holds ``B`` (anchor, positive) pairs, i.e. ``2B`` items labelled by pair; every item
is pulled to its partner and pushed from the other ``2B - 2`` items of the batch
(:class:`siamkit.losses.NTXentLoss`, the multiple-negatives ranking loss). The same item
appearing in two pairs of a batch is not pushed from itself (the loss's ``inputs_equal``).

With validation cases, the tower is scored after each epoch (NDCG@k, the user's query being the
mean of their history's embeddings) and the best epoch's weights are kept.

Example (six items with random features; users 1-3 like items 0-2, users 4-6 items 3-5):
    >>> features = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)  # (I, F)
    >>> users = np.repeat(np.arange(1, 7), 3)
    >>> items = np.array([0, 1, 2, 1, 2, 0, 2, 0, 1, 3, 4, 5, 4, 5, 3, 5, 3, 4])
    >>> val = [Case(user=1, target=2, history=np.array([0, 1]), seen=np.array([0, 1]))]
    >>> config = FitConfig(embedding_dim=8, hidden=(16,), epochs=4, lr=0.01, random_negatives=4)
    >>> result = fit_tower(features, (users, items), config, val_cases=val, k=2)
    >>> result.best_epoch, [round(x, 3) for x in result.curve]  # validation NDCG@2 per epoch
    (3, [0.631, 0.631, 1.0, 1.0])
    >>> result.tower.shape.n_items, bool(result.known.all())  # every item was liked
    (6, True)
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from siamkit.apps.recommend.metrics import Scorer, evaluate_ranking
from siamkit.apps.recommend.pairs import like_pairs
from siamkit.apps.recommend.ratings_data import F32, I64
from siamkit.apps.recommend.split import Case, recent
from siamkit.apps.recommend.tower import ItemTower, TowerShape, embed_items
from siamkit.losses import NTXentLoss


@dataclass(frozen=True)
class FitConfig:
    """Training settings of the item tower.

    Attributes:
        embedding_dim: ``D``.
        hidden: Hidden layer sizes of the feature MLP.
        id_embedding: Add a learned per-item vector to the feature path.
        id_dropout: Probability of dropping an item's id during training (features only).
        temperature: NT-Xent temperature ``τ``.
        epochs: Passes over the likes (the most, with validation: the best is kept).
        batch_size: Pairs per batch (``2B`` items).
        lr: Adam learning rate.
        random_negatives: Items drawn uniformly from the known items and added to each batch
            as negatives only (in-batch negatives alone follow popularity; uniform ones teach
            the tower which items are liked at all).
        window: Positives at most this many likes apart in the user's time order (None: any).
        weight_decay: Adam weight decay.
        seed: Seed for weights and pairs.
    """

    embedding_dim: int = 128
    hidden: tuple[int, ...] = (512,)
    id_embedding: bool = True
    id_dropout: float = 0.2
    temperature: float = 0.05
    epochs: int = 6
    batch_size: int = 512
    lr: float = 2e-3
    window: int | None = None
    random_negatives: int = 512
    weight_decay: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass
class FitResult:
    """A trained tower.

    Attributes:
        tower: The weights of the best (or last) epoch, in eval mode.
        known: ``(I,)`` items liked on the training side (they get their id; others: none).
        best_epoch: 1-based epoch kept (the last without validation).
        best_history: The query's history length (last likes; 0: all) that scored best on
            validation at the best epoch (0 without validation).
        curve: Best validation NDCG@k after each epoch (empty without validation).
        seconds: Training time.
    """

    tower: ItemTower
    known: np.ndarray
    best_epoch: int
    best_history: int = 0
    curve: list[float] = field(default_factory=list)
    seconds: float = 0.0


def item_ids(known: np.ndarray) -> torch.Tensor:
    """``(I,)`` ids the tower sees: item index + 1 where known, 0 (features only) elsewhere."""
    return torch.from_numpy(np.where(known, np.arange(1, len(known) + 1), 0).astype(np.int64))


def embedding_scorer(embeddings: F32) -> Scorer:
    """Scores = cosine of each item to the normalised mean of the user's history embeddings."""

    def score(cases: Sequence[Case]) -> F32:
        q = np.stack([embeddings[c.history].mean(axis=0) for c in cases])  # (U, D)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        return (q @ embeddings.T).astype(np.float32)  # (U, I)

    return score


def fit_tower(
    features: F32,
    likes: tuple[I64, I64],
    config: FitConfig,
    val_cases: Sequence[Case] | None = None,
    k: int = 10,
    log: Any = None,
    histories: Sequence[int] = (0,),
) -> FitResult:
    """Train an :class:`ItemTower` on co-interaction pairs.

    Args:
        features: ``(I, F)`` item features.
        likes: ``(users (L,), items (L,))`` the training side's likes.
        config: Settings.
        val_cases: Validation cases (from the training side); None trains ``epochs`` epochs.
        k: Cut-off of the validation NDCG.
        log: ``print``-like callable for one line per epoch, or None.
        histories: Query history lengths (last likes; 0: all) scored on validation after
            each epoch; the best (epoch, length) is kept.

    Raises:
        ValueError: No user has two likes (no pair to learn from).
    """
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    users, items = likes
    n_items = len(features)
    known = np.zeros(n_items, dtype=bool)
    known[items] = True
    known_idx = np.flatnonzero(known)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))  # (I, F)
    ids = item_ids(known)  # (I,)
    shape = TowerShape(
        x.shape[1], n_items, config.embedding_dim, tuple(config.hidden), config.id_embedding
    )
    tower = ItemTower(shape, x.mean(dim=0), x.std(dim=0))
    opt = torch.optim.Adam(tower.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = NTXentLoss(temperature=config.temperature)
    best = (-1.0, 0, 0, copy.deepcopy(tower.state_dict()))
    curve: list[float] = []
    for epoch in range(1, config.epochs + 1):
        anchors, positives = like_pairs(users, items, rng, config.window)
        if len(anchors) == 0:
            raise ValueError("no user has two likes on the training side: nothing to pair")
        tower.train()
        total, steps = 0.0, 0
        for i in range(0, len(anchors), config.batch_size):
            a = torch.from_numpy(anchors[i : i + config.batch_size])
            p = torch.from_numpy(positives[i : i + config.batch_size])
            if len(a) < 2:
                continue
            neg = torch.from_numpy(rng.choice(known_idx, size=config.random_negatives))
            batch = torch.cat([a, p, neg])  # (2B + R,)
            bid = ids[batch].clone()
            bid[torch.rand(len(bid)) < config.id_dropout] = 0
            emb = tower(x[batch], bid)  # (2B + R, D)
            labels = torch.cat(  # pairs share a label; each random negative has its own
                [torch.arange(len(a)).repeat(2), len(a) + torch.arange(len(neg))]
            )  # (2B + R,)
            loss = loss_fn(emb, labels, batch[:, None] == batch[None, :])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + float(loss.detach()), steps + 1
        line = f"epoch {epoch}: loss {total / max(steps, 1):.4f}"
        if val_cases:
            scorer = embedding_scorer(embed_items(tower, x, ids).numpy())
            ndcg, last = max(
                (evaluate_ranking(scorer, recent(list(val_cases), m), k).ndcg, m) for m in histories
            )
            curve.append(ndcg)
            line += f", validation NDCG@{k} {ndcg:.4f} (history: {last or 'all'})"
            if ndcg > best[0]:
                best = (ndcg, epoch, last, copy.deepcopy(tower.state_dict()))
        if log is not None:
            log(line)
    best_epoch, best_history = config.epochs, 0
    if val_cases:
        tower.load_state_dict(best[3])
        best_epoch, best_history = best[1], best[2]
    tower.eval()
    return FitResult(tower, known, best_epoch, best_history, curve, time.perf_counter() - start)
