"""Input standardisation stored inside the model, so every caller preprocesses the same way."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Standardize(nn.Module):
    """``(x - mean) / std`` with ``mean`` and ``std`` saved as buffers in the checkpoint.

    Args:
        mean: Broadcastable to one item, e.g. ``(C, 1, 1)`` for images or ``(F,)`` for vectors.
        std: Same shape; values below 1e-6 are raised to it.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer("std", std.detach().clone().float().clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        """Standardise a batch ``(B, ...)``."""
        return (x - self.mean) / self.std

    @classmethod
    def identity(cls, shape: tuple[int, ...]) -> Standardize:
        """A no-op of the given buffer shape (to be filled by ``load_state_dict``)."""
        return cls(torch.zeros(shape), torch.ones(shape))
