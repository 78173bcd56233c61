"""Training on many processes with PyTorch's own engine: DDP, launched by ``torchrun``.

siamkit starts no processes itself. ``torchrun`` (``python -m torch.distributed.run``) starts
one process per device and tells each its place through the environment (``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``/``MASTER_PORT``); this module reads it, joins
the process group (gloo on CPU, NCCL on CUDA), wraps the model in DDP and gathers each step's
batch across processes. Side effects (logs, progress, checkpoints, run files) stay on rank 0.
The small helpers the rest of siamkit calls too (rank and world, ``gather``, ``barrier``,
``on_main``) are in :mod:`siamkit.dist`.

One machine, N processes (N GPUs, or N CPU processes)::

    torchrun --standalone --nproc-per-node=N -m siamkit train --data digits --out runs/ddp
    siamkit train --nproc N --data digits --out runs/ddp   # runs exactly the line above

Two machines (the same line on both; HOST:PORT is the first machine, reachable from both)::

    torchrun --nnodes 2 --nproc-per-node=N --rdzv-backend c10d --rdzv-endpoint HOST:PORT \\
        --rdzv-id myrun -m siamkit train --data fashion-mnist --out runs/ddp

``--batch-size`` is the global batch: each step, every process takes an equal share of the
batch a single process would have drawn, and with ``--gather-negatives`` (the default) the loss
sees all of it (see docs/distributed.md).

Example:
    >>> with process_group(torch.device("cpu")) as info:  # no torchrun: a group of one
    ...     info.world_size
    1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from siamkit.data.identical import identical_inputs
from siamkit.dist import DistInfo, all_sum, dist_info, gather, rank_offset


@contextmanager
def process_group(device: torch.device, timeout_s: float = 1800.0) -> Iterator[DistInfo]:
    """Join ``torchrun``'s process group for the ``with`` block: NCCL on CUDA, gloo on CPU.

    Without ``torchrun`` (``WORLD_SIZE`` unset or 1) nothing is set up. A group that is already
    initialised is used as it is and left open; one created here is destroyed on exit.

    Args:
        device: The training device (its type picks the backend).
        timeout_s: How long a collective may wait for the other processes.
    """
    info = dist_info()
    created = False
    if info.world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(info.local_rank)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
        created = True
    try:
        yield dist_info()
    finally:
        if created:
            dist.destroy_process_group()


def training_device(device: torch.device, info: DistInfo) -> torch.device:
    """The device of this process: its own GPU (``cuda:LOCAL_RANK``) under ``torchrun``."""
    if device.type == "cuda" and info.world_size > 1:
        return torch.device("cuda", info.local_rank)
    return device


class _Embedder(nn.Module):
    """What DDP wraps: the network's ``embed``, and the loss so its parameters sync too."""

    def __init__(self, model: nn.Module, loss: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, x: Tensor) -> Tensor:
        return self.model.embed(x)  # type: ignore[operator]


def wrap_ddp(
    model: nn.Module, loss: nn.Module, device: torch.device, find_unused: bool = False
) -> DistributedDataParallel:
    """``DistributedDataParallel`` around ``model.embed`` (and the loss's parameters).

    Call it after the weights are final (loaded for ``--resume``): DDP copies rank 0's weights
    and buffers to every process. On CUDA, BatchNorm layers become ``SyncBatchNorm`` so they
    normalise with the statistics of the global batch (PyTorch's SyncBatchNorm is GPU-only: on
    CPU each process normalises its own share). Call the result like ``model.embed``:
    ``(b, ...) -> (b, D)``. ``find_unused``: some parameters get no gradient (a pretrained
    transformer's pooler when embeddings are mean-pooled); DDP then looks for them each step.
    """
    if device.type == "cuda":
        nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(
        _Embedder(model, loss), device_ids=ids, find_unused_parameters=find_unused
    )


class GlobalBatch(NamedTuple):
    """The batch every process's loss sees when embeddings are gathered."""

    embeddings: Tensor  # (Σ b_r, D), differentiable back to every process's share
    labels: Tensor  # (Σ b_r,)
    inputs_equal: Tensor | None  # (Σ b_r, Σ b_r) identical-input guard, when asked for


def gather_batch(
    emb: Tensor,
    labels: Tensor,
    raw: Tensor | None = None,
    rows: Tensor | None = None,
    item_labels: bool = False,
) -> GlobalBatch:
    """Gather one step's embeddings (with gradients), labels and duplicate guard.

    Args:
        emb: ``(b, D)`` this process's embeddings.
        labels: ``(b,)`` their labels.
        raw: ``(n, ...)`` this process's raw inputs (before augmentation), to mark identical
            inputs across processes; None skips the guard.
        rows: ``(b,)`` index into ``raw`` of each embedding row (two views: ``[0..n)`` twice);
            None means ``arange(b)``.
        item_labels: The labels are the ``rows`` themselves (self-supervised: each raw item is
            its own class); they become global item numbers, distinct across processes.

    Example:
        >>> g = gather_batch(torch.ones(2, 3), torch.tensor([0, 1]))  # one process
        >>> g.embeddings.shape, g.inputs_equal
        (torch.Size([2, 3]), None)
    """
    device = emb.device
    local = torch.arange(len(emb), device=device) if rows is None else rows.to(device)
    n = len(raw) if raw is not None else len(emb)
    global_rows = gather(local + rank_offset(n, device))  # (Σ b_r,) into the gathered items
    eq = None
    if raw is not None:
        eq = identical_inputs(gather(raw.to(device)))[global_rows][:, global_rows]
    all_labels = global_rows if item_labels else gather(labels.to(device))
    return GlobalBatch(gather(emb, with_grad=True), all_labels, eq)


def share_weight(n: int, device: torch.device) -> float:
    """The factor for a process's mean loss over its own ``n`` items, when losses are not
    gathered: DDP averages the processes' gradients, so weighing each share by
    ``n * world_size / N`` makes that average the gradient of the mean over all ``N`` items
    (shares of an epoch's last batch may differ in size). 1 for one process."""
    world = dist_info().world_size
    return 1.0 if world == 1 else n * world / all_sum([float(n)], device)[0]


def sync_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every process.

    DDP does so at the start of each training forward; after the last step each process has
    updated its own copy with its own share, so evaluation in parallel would mix statistics.
    """
    _from_rank0(module.buffers())


def sync_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every process (a module outside DDP, such as
    the weights' moving average after a resume that only rank 0 read)."""
    _from_rank0([*module.parameters(), *module.buffers()])


def _from_rank0(tensors: Iterable[Tensor]) -> None:
    """Overwrite each tensor with rank 0's copy, in place (nothing in one process)."""
    if dist_info().world_size > 1 and dist.is_initialized():
        with torch.no_grad():
            for t in tensors:
                dist.broadcast(t, src=0)
