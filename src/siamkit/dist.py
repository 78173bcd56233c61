"""Where this process stands among ``torchrun``'s processes, and the collectives the library
calls: gather embeddings, sum counts, wait, share rank 0's outcome.

Every helper is the identity (or a no-op) in a plain single process, so losses, models and
evaluation call them unconditionally. Joining the process group and wrapping the model in DDP
belong to training (:mod:`siamkit.training.distributed`, whose docstring has the ``torchrun``
commands). This module imports only torch and the standard library: anything in siamkit may
import it.

Example:
    >>> dist_info()  # no torchrun
    DistInfo(rank=0, local_rank=0, world_size=1)
    >>> gather(torch.tensor([1, 2]))
    tensor([1, 2])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import torch
import torch.distributed as dist
from torch import Tensor

T = TypeVar("T")


class DistInfo(NamedTuple):
    """Where this process stands: ``rank`` of ``world_size`` processes, ``local_rank`` on its
    machine (its GPU index)."""

    rank: int
    local_rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, shows progress and writes files."""
        return self.rank == 0


def dist_info() -> DistInfo:
    """This process's rank and world, from the process group or else ``torchrun``'s
    environment; ``DistInfo(0, 0, 1)`` for a plain single process."""
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        return DistInfo(dist.get_rank(), local, dist.get_world_size())
    env = os.environ
    return DistInfo(
        int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")), int(env.get("WORLD_SIZE", "1"))
    )


def is_main() -> bool:
    """Whether this process is rank 0 (always true without ``torchrun``)."""
    return dist_info().is_main


def shard_bounds(n: int, rank: int, num_replicas: int) -> slice:
    """The contiguous share of ``n`` items that process ``rank`` of ``num_replicas`` takes.

    Shares differ in length by at most one (the first ``n % num_replicas`` ranks take one more),
    are disjoint, and in rank order concatenate back to the ``n`` items.

    Example:
        >>> [shard_bounds(5, r, 2) for r in range(2)]
        [slice(0, 3, None), slice(3, 5, None)]
    """
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(
            f"rank {rank} of {num_replicas} processes: need num_replicas >= 1 and "
            "0 <= rank < num_replicas"
        )
    base, extra = divmod(n, num_replicas)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def gather_sizes(n: int, device: torch.device) -> list[int]:
    """The length ``n`` of every process's tensor, in rank order."""
    world = dist_info().world_size
    if world == 1:
        return [n]
    out = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(world)]
    dist.all_gather(out, torch.tensor([n], device=device))
    return [int(t) for t in out]


def gather(t: Tensor, with_grad: bool = False) -> Tensor:
    """Concatenate every process's ``(b_r, ...)`` tensor in rank order: ``(Σ b_r, ...)``.

    Shares may differ in length (they are padded for the exchange). With ``with_grad`` the
    result stays in the autograd graph (PyTorch's functional ``all_gather_single``): each
    process's rows get the gradient summed over every process's loss. When every process
    computes the same loss on the gathered batch, that is ``world_size`` times the
    single-process gradient, and DDP's average over processes brings it back exactly.

    Example:
        >>> gather(torch.tensor([1, 2]))  # one process: unchanged
        tensor([1, 2])
    """
    world = dist_info().world_size
    if world == 1:
        return t
    sizes = gather_sizes(len(t), t.device)
    pad = max(sizes) - len(t)
    padded = torch.cat([t, t.new_zeros((pad, *t.shape[1:]))]) if pad else t  # (max b, ...)
    if with_grad:  # PyTorch's differentiable all-gather (its backward: a reduce-scatter)
        from torch.distributed._functional_collectives import all_gather_single

        group = dist.group.WORLD
        assert group is not None  # initialised: world > 1
        parts = list(all_gather_single(padded.contiguous(), 0, group).chunk(world))
    else:
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes, strict=True)])


def rank_offset(n: int, device: torch.device) -> int:
    """How many items the lower ranks hold, when this one holds ``n``: where this process's
    rows start in a gathered tensor."""
    return sum(gather_sizes(n, device)[: dist_info().rank])


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over every process (identity for one process)."""
    if dist_info().world_size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return [float(v) for v in t.cpu()]


def barrier() -> None:
    """Wait for every process (nothing without a process group)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def on_main(fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only and give every process its result, or its ``ValueError``.

    For side effects that must happen once (checking and creating the run directory, reading
    a checkpoint that only rank 0's disk may hold) while every process learns the outcome:
    a user error on rank 0 is then raised on every process, and none waits forever.
    """
    if dist_info().world_size == 1 or not dist.is_initialized():
        return fn()
    box: list[Any] = [None]
    if dist.get_rank() == 0:
        try:
            box[0] = ("ok", fn())
        except ValueError as e:
            box[0] = ("error", str(e))
    dist.broadcast_object_list(box, src=0)
    status, value = box[0]
    if status == "error":
        raise ValueError(value)
    return cast(T, value)
