"""Pairs and triplets drawn from a labelled data set, reproducible by seed.

Pair labels follow the contrastive loss: **Y = 0 for a similar pair, Y = 1 for a dissimilar
pair**. An item is never paired with itself.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from siamkit.data.labelled import LabelledData


class _ClassIndex:
    """Items sorted by label, with each class's block, for vectorised sampling."""

    def __init__(self, labels: Tensor) -> None:
        self.order = torch.argsort(labels, stable=True)  # (N,)
        sorted_labels = labels[self.order]
        classes, counts = torch.unique_consecutive(sorted_labels, return_counts=True)
        starts = torch.cumsum(counts, 0) - counts
        lookup = {int(c): k for k, c in enumerate(classes.tolist())}
        self.block = torch.tensor([lookup[int(c)] for c in sorted_labels.tolist()])  # (N,)
        self.starts, self.counts, self.n = starts, counts, len(labels)
        self.n_classes = len(classes)

    def positives(self, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
        """``n`` (anchor, positive) index pairs of distinct items of the same class."""
        eligible = (self.counts[self.block] >= 2).nonzero().flatten()  # sorted positions
        if len(eligible) == 0:
            raise ValueError("no class has 2 or more items, so no similar pair can be formed")
        p = eligible[torch.randint(len(eligible), (n,), generator=g)]
        b = self.block[p]
        s, c = self.starts[b], self.counts[b]
        r = (torch.rand(n, generator=g) * (c - 1)).long().clamp_max(c - 2) + 1  # 1..c-1
        q = s + (p - s + r) % c
        return self.order[p], self.order[q]

    def negatives(self, anchors_sorted: Tensor, g: torch.Generator) -> Tensor:
        """For anchors (sorted positions), an item of another class each."""
        if self.n_classes < 2:
            raise ValueError("only one class present, so no dissimilar pair can be formed")
        b = self.block[anchors_sorted]
        s, c = self.starts[b], self.counts[b]
        k = (torch.rand(len(b), generator=g) * (self.n - c)).long().clamp_max(self.n - c - 1)
        pos = torch.where(k < s, k, k + c)
        return self.order[pos]

    def negatives_for(self, anchors: Tensor, g: torch.Generator) -> Tensor:
        """Like :meth:`negatives` but for anchors given as item indices."""
        rank = torch.empty_like(self.order)
        rank[self.order] = torch.arange(self.n)
        return self.negatives(rank[anchors], g)


class Pairs(NamedTuple):
    """Index pairs ``(K,)`` each and their labels (0 similar, 1 dissimilar)."""

    first: Tensor
    second: Tensor
    label: Tensor


def sample_pairs(
    labels: Tensor, num_pairs: int, positive_fraction: float = 0.5, seed: int = 0
) -> Pairs:
    """Draw ``num_pairs`` pairs, ``round(num_pairs * positive_fraction)`` of them similar.

    Example:
        >>> p = sample_pairs(torch.tensor([0, 0, 1, 1]), 4)
        >>> p.label.tolist()
        [0, 0, 1, 1]
    """
    if not 0.0 <= positive_fraction <= 1.0:
        raise ValueError(f"positive_fraction must be in [0, 1], got {positive_fraction}")
    if num_pairs < 1:
        raise ValueError(f"num_pairs must be >= 1, got {num_pairs}")
    g = torch.Generator().manual_seed(seed)
    index = _ClassIndex(labels)
    n_pos = int(round(num_pairs * positive_fraction))
    n_neg = num_pairs - n_pos
    pa, pb = index.positives(n_pos, g) if n_pos else (torch.zeros(0, dtype=torch.long),) * 2
    if n_neg:
        anchors = torch.randint(index.n, (n_neg,), generator=g)
        na, nb = index.order[anchors], index.negatives(anchors, g)
    else:
        na = nb = torch.zeros(0, dtype=torch.long)
    y = torch.cat([torch.zeros(n_pos, dtype=torch.long), torch.ones(n_neg, dtype=torch.long)])
    return Pairs(torch.cat([pa, na]), torch.cat([pb, nb]), y)


class PairDataset(Dataset[tuple[Tensor, Tensor, Tensor]]):
    """Balanced same/different pairs from a labelled data set.

    Args:
        data: Items and class labels.
        positive_fraction: Share of similar pairs (default 0.5: balanced).
        num_pairs: Pairs per epoch; default ``len(data)``.
        seed: Same seed (and epoch), same pairs.

    Items are ``(x1, x2, y)`` with ``y = 0`` similar, ``1`` dissimilar.
    """

    def __init__(
        self,
        data: LabelledData,
        positive_fraction: float = 0.5,
        num_pairs: int | None = None,
        seed: int = 0,
    ) -> None:
        self.data = data
        self.positive_fraction = positive_fraction
        if num_pairs is not None and num_pairs < 1:
            raise ValueError(f"num_pairs must be >= 1, got {num_pairs}")
        self.num_pairs = len(data) if num_pairs is None else num_pairs
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw the pairs of ``epoch`` (different epochs, different pairs; same seed, same)."""
        self.pairs = sample_pairs(
            self.data.y, self.num_pairs, self.positive_fraction, self.seed * 100_003 + epoch
        )

    def __len__(self) -> int:
        return self.num_pairs

    def __getitem__(self, k: int) -> tuple[Tensor, Tensor, Tensor]:
        i, j = int(self.pairs.first[k]), int(self.pairs.second[k])
        return self.data.x[i], self.data.x[j], self.pairs.label[k]


class TripletDataset(Dataset[tuple[Tensor, Tensor, Tensor]]):
    """(anchor, positive, negative) triplets: positive of the anchor's class, negative not.

    Args:
        data: Items and class labels.
        num_triplets: Triplets per epoch; default ``len(data)``.
        seed: Same seed (and epoch), same triplets.
    """

    def __init__(self, data: LabelledData, num_triplets: int | None = None, seed: int = 0) -> None:
        self.data = data
        if num_triplets is not None and num_triplets < 1:
            raise ValueError(f"num_triplets must be >= 1, got {num_triplets}")
        self.num_triplets = len(data) if num_triplets is None else num_triplets
        self.seed = seed
        self._index = _ClassIndex(data.y)
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw the triplets of ``epoch``."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        a, p = self._index.positives(self.num_triplets, g)
        self.triplets = torch.stack([a, p, self._index.negatives_for(a, g)], dim=1)  # (T, 3)

    def __len__(self) -> int:
        return self.num_triplets

    def __getitem__(self, k: int) -> tuple[Tensor, Tensor, Tensor]:
        a, p, n = self.triplets[k].tolist()
        return self.data.x[a], self.data.x[p], self.data.x[n]
