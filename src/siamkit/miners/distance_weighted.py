"""Distance-weighted sampling of negatives (Wu et al. 2017)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from siamkit.distances import EuclideanDistance
from siamkit.miners.base import (
    MINERS,
    TripletMiner,
    _Batch,
    relations,
)


@MINERS.register("distance_weighted")
class DistanceWeightedMiner(TripletMiner):
    """One negative per anchor, drawn with probability ``∝ 1/q(d)``; all its positives.

    Wu, Manmatha, Smola & Krähenbühl, "Sampling Matters in Deep Embedding Learning",
    ICCV 2017. For unit vectors in ``n`` dimensions, pairwise distances have density
    ``q(d) ∝ d^(n-2) (1 - d²/4)^((n-3)/2)``; weighting by its inverse spreads the sampled
    negatives evenly over distances. ``d`` is clamped at ``cutoff`` (bounding the weights
    of near neighbours, which are mostly noise), and negatives at ``d >= nonzero_loss_cutoff``
    get weight 0 (they would add no loss). Weights are computed in log space.

    The weights describe the unit sphere, so they are computed from Euclidean distances of
    L2-normalised embeddings whatever ``distance`` is; the stats and the loss use
    ``distance``. For the method as published, train on normalised embeddings with the
    Euclidean distance. Anchors with no positive or no negative below the cutoff are skipped.

    Args:
        margin: ``m`` (for the stats).
        cutoff: Lower clamp on ``d`` for the weights.
        nonzero_loss_cutoff: Negatives this far or farther are never drawn.
        generator: Seeds the draws (``torch.Generator``); the global RNG when None.

    Example:
        >>> from siamkit.distances import get_distance
        >>> emb = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0], [3.0, 0.0]])
        >>> labels = torch.tensor([0, 0, 1, 1])
        >>> g = torch.Generator().manual_seed(0)
        >>> miner = DistanceWeightedMiner(0.2, generator=g)
        >>> a, p, n, stats = miner(emb, labels, get_distance("euclidean"))
        >>> stats.num_mined  # anchors with a positive and a negative below the cutoff
        3
    """

    name = "distance_weighted"

    def __init__(
        self,
        margin: float = 1.0,
        cutoff: float = 0.5,
        nonzero_loss_cutoff: float = 1.4,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(margin)
        if not 0 < cutoff < nonzero_loss_cutoff:
            raise ValueError(
                f"need 0 < cutoff < nonzero_loss_cutoff, got cutoff={cutoff} and "
                f"nonzero_loss_cutoff={nonzero_loss_cutoff} (the paper uses 0.5 and 1.4)"
            )
        self.cutoff = float(cutoff)
        self.nonzero_loss_cutoff = float(nonzero_loss_cutoff)
        self.generator = generator

    def log_weights(self, embeddings: Tensor, negative: Tensor) -> Tensor:
        """Unnormalised log sampling weights ``-log q(d)``, -inf where no draw is allowed.

        Args:
            embeddings: ``(B, D)``; normalised here.
            negative: ``(B, B)`` bool, which pairs are negatives.

        Returns:
            ``(B, B)`` log weights, row = anchor.
        """
        x = F.normalize(embeddings.detach(), dim=1)
        dim = x.shape[1]
        d = EuclideanDistance().matrix(x)  # (B, B), in [0, 2]
        dc = d.clamp_min(self.cutoff)
        log_q = (dim - 2) * dc.log() + (dim - 3) / 2 * (1 - dc.pow(2) / 4).clamp_min(1e-12).log()
        return (-log_q).masked_fill(~negative | (d >= self.nonzero_loss_cutoff), -math.inf)

    def probabilities(
        self, embeddings: Tensor, labels: Tensor, inputs_equal: Tensor | None = None
    ) -> Tensor:
        """The probability of drawing each negative for each anchor.

        Args:
            embeddings: ``(B, D)``.
            labels: ``(B,)``.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs.

        Returns:
            ``(B, B)``; each row sums to 1, or is all 0 where the anchor has no candidate.
        """
        neg = relations(labels.to(embeddings.device), inputs_equal).negative
        log_w = self.log_weights(embeddings, neg)  # (B, B)
        weights = _exp_shifted(log_w)  # (B, B)
        total = weights.sum(dim=1, keepdim=True)  # (B, 1)
        return weights / total.masked_fill(total == 0, 1.0)

    def _mine(self, batch: _Batch) -> tuple[Tensor, Tensor, Tensor]:
        pos, neg = batch.rel
        log_w = self.log_weights(batch.embeddings, neg)  # (B, B)
        rows = torch.nonzero(torch.isfinite(log_w).any(dim=1) & pos.any(dim=1)).flatten()
        drawn = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)  # (B,)
        if rows.numel():
            weights = _exp_shifted(log_w[rows])  # (R, B), unnormalised
            g = self.generator
            if g is not None and g.device != weights.device:
                weights = weights.to(g.device)
            drawn[rows] = torch.multinomial(weights, 1, generator=g).flatten().to(pos.device)
        keep = torch.zeros_like(pos[0])
        keep[rows] = True
        a, p = torch.nonzero(pos & keep.unsqueeze(1), as_tuple=True)  # every positive
        return a, p, drawn[a]

    def __repr__(self) -> str:
        return (
            f"DistanceWeightedMiner(margin={self.margin}, cutoff={self.cutoff}, "
            f"nonzero_loss_cutoff={self.nonzero_loss_cutoff})"
        )


def _exp_shifted(log_w: Tensor) -> Tensor:
    """``exp(log_w - rowmax)``: weights up to a factor per row, 0 in rows all -inf."""
    top = log_w.amax(dim=1, keepdim=True)  # (R, 1)
    return (log_w - top.masked_fill(~torch.isfinite(top), 0.0)).exp()
