"""Embedding many items with a model in batches, without gradients; in parallel across
``torchrun`` processes when asked.

Training's validation, evaluation, the gallery, the text embedder and the applications all
embed through :func:`embed_all`; it needs only the network and :mod:`siamkit.dist`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from siamkit.dist import dist_info, gather, shard_bounds
from siamkit.models.siamese import SiameseNetwork
from siamkit.progress import task


@torch.inference_mode()
def embed_all(
    model: SiameseNetwork,
    x: Tensor,
    batch_size: int = 512,
    device: str | torch.device = "cpu",
    distributed: bool = False,
) -> Tensor:
    """Embeddings ``(N, D)`` (on the CPU) of items ``(N, ...)``, in eval mode.

    Args:
        model: The network.
        x: ``(N, ...)`` items.
        batch_size: Items per forward pass.
        device: Where the model runs.
        distributed: Under ``torchrun``, every process embeds its contiguous share of ``x``
            and the shares are gathered, so each process returns all ``(N, D)`` embeddings in
            input order (every process must call it). Without a process group: ignored.

    Example:
        >>> from siamkit.training import load_run
        >>> model = load_run("runs/digits").model  # 8x8 grey digits -> 16-d embeddings
        >>> embed_all(model, torch.rand(10, 1, 8, 8)).shape
        torch.Size([10, 16])
    """
    if distributed:
        info = dist_info()
        if info.world_size > 1:
            mine = x[shard_bounds(len(x), info.rank, info.world_size)]
            local = _embed(model, mine if len(mine) else x[:1], batch_size, device)
            if local is None:
                raise ValueError("nothing to embed: the input set is empty")
            if not len(mine):  # fewer items than processes: an empty share of the right width
                local = local[:0]
            return gather(local.to(device)).cpu()
    emb = _embed(model, x, batch_size, device)
    if emb is None:
        raise ValueError("nothing to embed: the input set is empty")
    return emb


def _embed(
    model: SiameseNetwork, x: Tensor, batch_size: int, device: str | torch.device
) -> Tensor | None:
    """``(N, D)`` CPU embeddings of ``x``, or None for no items."""
    was_training = model.training
    model.eval()
    nhwc = x.dim() == 4 and _is_channels_last(model)
    # token ids (N, L): embed texts of like length together (the encoder trims the padding),
    # then put the rows back in input order
    order = _by_length(x) if x.dim() == 2 and not x.is_floating_point() else None
    xs = x if order is None else x[order]
    try:
        out = []
        with task("embedding", total=len(xs)) as advance:
            for i in range(0, len(xs), batch_size):
                xb = xs[i : i + batch_size].to(device)
                if nhwc:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                out.append(model.embed(xb).float().cpu())
                advance(len(xb))
    finally:
        model.train(was_training)
    if not out:
        return None
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
