"""What every loss shares: the registry and the reduction of per-pair or per-triplet terms."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from siamkit.registry import Registry

Reduction = Literal["mean", "mean_nonzero", "sum", "none"]
# mean_nonzero: the mean over the terms that are not zero (pairs/triplets still violating their
# margin), so easy pairs do not dilute the gradient as training progresses.
REDUCTIONS = ("mean", "mean_nonzero", "sum", "none")

LOSSES: Registry[nn.Module] = Registry("loss")


def check_reduction(reduction: str) -> None:
    """Raise a ValueError naming the valid reductions when ``reduction`` is not one."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction '{reduction}'; choose one of: {', '.join(REDUCTIONS)}")


def reduce(terms: Tensor, reduction: str, anchor: Tensor) -> Tensor:
    """Reduce ``terms`` ``(K,)``; with no terms, a zero still connected to ``anchor``'s graph."""
    if reduction == "none":
        return terms
    if reduction == "mean_nonzero":
        terms = terms[terms > 0]
    if terms.numel() == 0:
        return anchor.sum() * 0.0
    return terms.sum() if reduction == "sum" else terms.mean()
