"""Shared by the 2-process worker and its test: the batch, the network and the losses.

The network has no BatchNorm (PyTorch's SyncBatchNorm is GPU-only, so on CPU each process
would normalise its own share) and the batch has a duplicated input across the two shares,
so the cross-process duplicate guard is exercised.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from siamkit.losses import get_loss
from siamkit.models.siamese import SiameseNetwork

N, F, D = 9, 6, 4  # 9 items: shares of 5 and 4 (uneven on purpose)
LOSSES = ["contrastive", "multi_similarity", "triplet", "arcface", "nt_xent"]


def batch() -> tuple[Tensor, Tensor]:
    """``(N, F)`` inputs and ``(N,)`` labels of 3 classes; item 6 repeats item 1 exactly but is labelled 0, not 1."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, F, generator=g)
    x[6] = x[1]
    labels = torch.tensor([0, 1, 2, 0, 2, 1, 0, 1, 2])
    return x, labels


def network() -> SiameseNetwork:
    torch.manual_seed(1)
    enc = nn.Sequential(nn.Linear(F, 8), nn.Tanh(), nn.Linear(8, D))
    return SiameseNetwork(enc, "euclidean", normalize=True)


def loss(name: str) -> nn.Module:
    torch.manual_seed(2)
    options: dict[str, object] = {}
    if name == "triplet":
        options["miner"] = "batch_hard"
    if name == "arcface":
        options.update(num_classes=3, embedding_dim=D)
    return get_loss(name, **options)


def views(x: Tensor) -> tuple[Tensor, Tensor]:
    """Two deterministic 'augmented' views (self-supervised case)."""
    return x, 0.8 * x + 0.1


ROTATION_WEIGHT = 0.7


def rotation_loss() -> nn.Module:
    """multi-similarity with a rotation-style head beside it (the trainer adds its term)."""
    from siamkit.losses import RotationLoss, WithRotation

    torch.manual_seed(3)
    return WithRotation(get_loss("multi_similarity"), RotationLoss(D, hidden=5), ROTATION_WEIGHT)


def turned(x: Tensor) -> tuple[Tensor, Tensor]:
    """A stand-in for quarter turns on vectors: fixed classes 0-3 and a transform of each row
    (``(N,)`` targets, ``(N, F)`` inputs); only the plumbing around the term is under test."""
    k = torch.arange(len(x)) % 4
    return k, torch.roll(x, 1, dims=1) * (1.0 + k.unsqueeze(1).float() / 4)
