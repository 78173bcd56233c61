"""What every loss shares: the registry and the reduction of per-pair or per-triplet terms."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from siamkit.registry import Registry

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS = ("mean", "sum", "none")

LOSSES: Registry[nn.Module] = Registry("loss")


def check_reduction(reduction: str) -> None:
    """Raise a ValueError naming the valid reductions when ``reduction`` is not one."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction '{reduction}'; choose one of: {', '.join(REDUCTIONS)}")


def reduce(terms: Tensor, reduction: str, anchor: Tensor) -> Tensor:
    """Reduce ``terms`` ``(K,)``; with no terms, a zero still connected to ``anchor``'s graph."""
    if reduction == "none":
        return terms
    if terms.numel() == 0:
        return anchor.sum() * 0.0
    return terms.mean() if reduction == "mean" else terms.sum()
