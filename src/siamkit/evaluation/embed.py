"""Embedding many items in batches, without gradients."""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.models.siamese import SiameseNetwork


@torch.inference_mode()
def embed_all(
    model: SiameseNetwork, x: Tensor, batch_size: int = 512, device: str | torch.device = "cpu"
) -> Tensor:
    """Embeddings ``(N, D)`` (on the CPU) of items ``(N, ...)``, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        out = [
            model.embed(x[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(x), batch_size)
        ]
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("nothing to embed: the input set is empty")
    return torch.cat(out)
