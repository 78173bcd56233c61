"""Class-balanced batches: P classes × K items each, every item seen once per epoch; and the
share of each batch a process takes when training runs on several (``torchrun``)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Sampler

from siamkit.dist import shard_bounds


class ClassBalancedSampler(Sampler[list[int]]):
    """Yields batches of indices with ``classes_per_batch`` classes and ``items_per_class`` items
    of each.

    Every item appears at least once per epoch: each class's items are shuffled into a queue
    and batches draw from the queues (classes with more items left are drawn more often); a
    class whose queue runs short is topped up with other random items of that class, and a batch
    short of classes near the end of the epoch is topped up with random items of other classes.

    Args:
        labels: ``(N,)`` class labels.
        classes_per_batch: P (capped at the number of classes).
        items_per_class: K.
        seed: Same seed and epoch, same batches.
        num_replicas: Processes sharing each batch (``torchrun``'s world size). Each global
            P×K batch is then split within every class: process ``rank`` gets all P classes,
            with its :func:`shard_bounds` share of each class's K items (``K / num_replicas``,
            one more on the first ``K % num_replicas`` ranks). The processes' shares are
            disjoint and together exactly the single-process batch (so every item is still
            seen at least once per epoch, across processes). Every share holds every class
            of the batch, which keeps per-process BatchNorm statistics close to the batch's
            and gives each process positives and negatives of its own. Needs K >= it.
        rank: This process's place, ``0 <= rank < num_replicas``.

    Example:
        >>> s = ClassBalancedSampler(torch.tensor([0, 0, 1, 1, 2, 2]), 2, 2)
        >>> sorted({i for b in s for i in b})
        [0, 1, 2, 3, 4, 5]
    """

    def __init__(
        self,
        labels: Tensor,
        classes_per_batch: int,
        items_per_class: int,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if classes_per_batch < 1 or items_per_class < 1:
            raise ValueError("classes_per_batch and items_per_class must be >= 1")
        self.labels = labels.cpu()
        self.classes = torch.unique(self.labels).tolist()
        if len(self.classes) < 2:
            raise ValueError("class-balanced batches need at least 2 classes")
        self.p = min(classes_per_batch, len(self.classes))
        self.k = items_per_class
        self.seed = seed
        self.epoch = 0
        self._members = {c: (self.labels == c).nonzero().flatten() for c in self.classes}
        shard_bounds(0, rank, num_replicas)  # checks the rank
        if self.k < num_replicas:
            raise ValueError(
                f"P×K batches are split between processes within each class, but K={self.k} "
                f"items per class is fewer than {num_replicas} processes; raise --batch-size "
                f"to at least {self.p * num_replicas} (P={self.p} classes x K >= "
                f"{num_replicas}) or lower --classes-per-batch"
            )
        self.num_replicas = num_replicas
        self.rank = rank

    def set_epoch(self, epoch: int) -> None:
        """Use the batches of ``epoch``."""
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        """This process's share of every batch of the current epoch (all of it for one
        process)."""
        full = self.global_batches()
        if self.num_replicas == 1:
            return full
        mine = shard_bounds(self.k, self.rank, self.num_replicas)  # of each class's K items
        return [
            [i for c in range(0, len(b), self.k) for i in b[c : c + self.k][mine]] for b in full
        ]

    def global_batches(self) -> list[list[int]]:
        """All batches of the current epoch, as one process would see them."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        queues = {
            c: m[torch.randperm(len(m), generator=g)].tolist() for c, m in self._members.items()
        }
        out: list[list[int]] = []
        while any(queues.values()):
            open_classes = [c for c in self.classes if queues[c]]
            weights = torch.tensor([float(len(queues[c])) for c in open_classes])
            take = min(self.p, len(open_classes))
            picks = torch.multinomial(weights, take, replacement=False, generator=g).tolist()
            chosen = [open_classes[i] for i in picks]
            if take < self.p:  # top up with classes that are already exhausted
                rest = [c for c in self.classes if c not in chosen]
                order = torch.randperm(len(rest), generator=g).tolist()
                chosen += [rest[i] for i in order[: self.p - take]]
            batch: list[int] = []
            for c in chosen:
                items, queues[c] = queues[c][: self.k], queues[c][self.k :]
                batch += items + self._top_up(c, items, g)
            out.append(batch)
        return out

    def _top_up(self, c: int, items: list[int], g: torch.Generator) -> list[int]:
        """Other random items of class ``c`` to make ``items`` K long; repeats only when the
        class has fewer than K items."""
        missing = self.k - len(items)
        if missing <= 0:
            return []
        members = self._members[c]
        taken = set(items)
        others = [
            int(i)
            for i in members[torch.randperm(len(members), generator=g)]
            if int(i) not in taken
        ]
        extra = others[:missing]
        while len(extra) < missing:  # class smaller than K: repeat items
            extra.append(int(members[torch.randint(len(members), (1,), generator=g)]))
        return extra

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return len(self.batches())
