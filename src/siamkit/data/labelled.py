"""An in-memory labelled data set: items, integer labels and the class names they index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor
from torch.utils.data import Dataset

Kind = Literal["image", "vector", "text"]


@dataclass
class LabelledData(Dataset[tuple[Tensor, Tensor]]):
    """Items with class labels.

    Attributes:
        x: ``(N, C, H, W)`` images with values in [0, 1], or ``(N, F)`` feature vectors.
        y: ``(N,)`` int64 labels, indices into ``class_names``.
        class_names: Name of each class (``"0"``..``"9"`` for digits, folder names, ...).
        kind: ``image``, ``vector`` or ``text`` (``x`` is then ``(N, L)`` token ids).
        sources: Where each item came from (file path, row number), for messages and reports.
        roles: ``(N,)`` int64 role of each item in its pair, or None: 0 = anchor (``text_a``),
            1 = response (``text_b``); ranking losses over (anchor, response) pairs use it.
    """

    x: Tensor
    y: Tensor
    class_names: list[str]
    kind: Kind
    sources: list[str] | None = field(default=None, repr=False)
    roles: Tensor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"{self.x.shape[0]} items but {self.y.shape[0]} labels")
        if self.kind == "image" and self.x.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W), got {tuple(self.x.shape)}")
        if self.roles is not None and self.roles.shape != self.y.shape:
            raise ValueError(f"{self.y.shape[0]} items but roles {tuple(self.roles.shape)}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.x[i], self.y[i]

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one item: ``(C, H, W)`` or ``(F,)``."""
        return tuple(self.x.shape[1:])

    def subset(self, indices: Tensor | Sequence[int]) -> LabelledData:
        """The items at ``indices`` (class names unchanged)."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        src = None if self.sources is None else [self.sources[i] for i in idx.tolist()]
        roles = None if self.roles is None else self.roles[idx]
        return LabelledData(self.x[idx], self.y[idx], self.class_names, self.kind, src, roles)

    def of_classes(self, classes: Sequence[int]) -> LabelledData:
        """The items whose label is one of ``classes``."""
        mask = torch.isin(self.y, torch.as_tensor(list(classes), dtype=torch.long))
        return self.subset(mask.nonzero().flatten())
