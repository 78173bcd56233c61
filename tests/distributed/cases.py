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
