"""What every loss shares: the registry and the reduction of per-pair or per-triplet terms."""

from __future__ import annotations

import inspect
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


_FORWARD_PARAMETERS: dict[type, frozenset[str]] = {}


def _forward_parameters(loss: nn.Module) -> frozenset[str]:
    """The keyword names ``loss``'s ``forward`` takes, read once per class (it is asked every
    batch)."""
    cls = type(loss)
    if cls not in _FORWARD_PARAMETERS:
        _FORWARD_PARAMETERS[cls] = frozenset(inspect.signature(cls.forward).parameters)
    return _FORWARD_PARAMETERS[cls]


def takes_inputs_equal(loss: nn.Module) -> bool:
    """Whether ``loss`` takes ``inputs_equal`` (identical inputs are then never negatives)."""
    return "inputs_equal" in _forward_parameters(loss)


def takes_roles(loss: nn.Module) -> bool:
    """Whether ``loss`` takes ``roles`` (0 anchor, 1 response: it ranks responses for anchors)."""
    return "roles" in _forward_parameters(loss)


def apply_loss(
    loss: nn.Module,
    embeddings: Tensor,
    labels: Tensor,
    inputs_equal: Tensor | None = None,
    roles: Tensor | None = None,
) -> Tensor:
    """``loss`` on ``(B, D)`` embeddings and ``(B,)`` labels, given ``inputs_equal`` (the
    identical-input guard) and ``roles`` (anchor / response) where it takes them."""
    extra: dict[str, Tensor] = {}
    if inputs_equal is not None and takes_inputs_equal(loss):
        extra["inputs_equal"] = inputs_equal
    if roles is not None and takes_roles(loss):
        extra["roles"] = roles
    return loss(embeddings, labels, **extra)


class WrappedLoss(nn.Module):
    """A loss around another one (a head in front of it, a task beside it).

    Subclasses call :meth:`inner` to apply the wrapped loss; it passes ``inputs_equal`` (the
    identical-input guard) and ``roles`` (anchor / response) on when the wrapped loss takes
    them, and :attr:`last_stats` shows the wrapped loss's miner statistics, so the trainer sees
    a wrapper as it would the loss.

    Args:
        loss: The wrapped loss (takes ``(embeddings, labels)``, optionally ``inputs_equal``).
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    @property
    def last_stats(self) -> object:
        """The wrapped loss's miner statistics of the last batch, if it keeps any."""
        return getattr(self.loss, "last_stats", None)

    def inner(
        self,
        embeddings: Tensor,
        labels: Tensor,
        inputs_equal: Tensor | None,
        roles: Tensor | None = None,
    ) -> Tensor:
        """The wrapped loss on ``(B, D)`` embeddings and ``(B,)`` labels."""
        return apply_loss(self.loss, embeddings, labels, inputs_equal, roles)


def mlp_head(in_dim: int, hidden: int, out_dim: int, what: str) -> nn.Sequential:
    """A training-only head: Linear(in_dim, hidden) - ReLU - Linear(hidden, out_dim).

    ``what`` names the head in the error raised for a size below 1.
    """
    if min(in_dim, hidden, out_dim) < 1:
        raise ValueError(
            f"{what} needs sizes >= 1; got input {in_dim}, hidden {hidden}, output {out_dim}"
        )
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))
