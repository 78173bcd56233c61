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
    # token ids (N, L): embed texts of like length together (the encoder trims the padding),
    # then put the rows back in input order
    order = _by_length(x) if x.dim() == 2 and not x.is_floating_point() else None
    xs = x if order is None else x[order]
    try:
        out = []
        for i in range(0, len(xs), batch_size):
            xb = xs[i : i + batch_size].to(device)
            if nhwc:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(model.embed(xb).float().cpu())
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("nothing to embed: the input set is empty")
    emb = torch.cat(out)  # (N, D)
    if order is not None:
        emb = emb[torch.argsort(order)]
    return emb


def _by_length(ids: Tensor) -> Tensor:
    """Order of right-padded id rows ``(N, L)``, longest first, taking the smallest id in the
    last column as padding; a wrong guess only costs speed (the encoder masks by itself)."""
    if len(ids) == 0:
        return torch.arange(0)
    lengths = (ids != ids[:, -1:].min()).sum(dim=1)  # a proxy: only the order matters
    return torch.argsort(lengths, descending=True, stable=True)


def _is_channels_last(model: SiameseNetwork) -> bool:
    """Whether the model's first 4-D weight (a convolution) is stored NHWC."""
    for p in model.parameters():
        if p.dim() == 4:
            return p.is_contiguous(memory_format=torch.channels_last)
    return False
