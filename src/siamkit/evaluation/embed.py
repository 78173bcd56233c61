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
    nhwc = x.dim() == 4 and _is_channels_last(model)
    try:
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(device)
            if nhwc:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(model.embed(xb).float().cpu())
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("nothing to embed: the input set is empty")
    return torch.cat(out)


def _is_channels_last(model: SiameseNetwork) -> bool:
    """Whether the model's first 4-D weight (a convolution) is stored NHWC."""
    for p in model.parameters():
        if p.dim() == 4:
            return p.is_contiguous(memory_format=torch.channels_last)
    return False
