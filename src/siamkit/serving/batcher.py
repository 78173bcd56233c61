"""Micro-batching: concurrent requests share one model call, with a bounded wait.

Each request submits its own small batch (``(n, ...)`` array or ``n`` texts). One worker task
takes the first waiting request, then keeps taking more until ``max_batch`` items are gathered or
``max_wait_ms`` has passed since the first, concatenates them, runs the model in a worker thread
(so the event loop keeps accepting requests meanwhile) and hands each request its rows back.
While the model runs, new requests queue up and form the next batch, so under load batches fill
without any waiting at all.

If a joint call fails, each request of the batch is retried alone, so one input the model
rejects cannot fail its neighbours.

Example:
    >>> import asyncio
    >>> calls = []  # the item count of each model call
    >>> batcher = MicroBatcher(lambda x: x * 2, max_batch=64, max_wait_ms=50, on_batch=calls.append)
    >>> async def two_requests():
    ...     await batcher.start()
    ...     try:
    ...         return await asyncio.gather(
    ...             batcher.submit(np.ones((2, 3), np.float32)),
    ...             batcher.submit(np.ones((1, 3), np.float32)),
    ...         )
    ...     finally:
    ...         await batcher.stop()
    >>> [out.shape for out in asyncio.run(two_requests())]  # each request gets its own rows
    [(2, 3), (1, 3)]
    >>> calls  # from one model call
    [3]
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Batch = npt.NDArray[np.float32] | list[str]
# a batch in, one result row per item out: an (N, D) array, or a list of N results
EmbedFn = Callable[[Any], Any]


@dataclass
class _Job:
    items: Batch
    future: asyncio.Future[Any]


class MicroBatcher:
    """Gathers concurrent embedding requests into batches for one model.

    Args:
        embed: The model: a batch (array ``(N, ...)`` or ``N`` texts) -> ``(N, D)`` float32,
            or any function whose result has one row per item and can be sliced (a gallery
            search returning a list of N results).
        max_batch: Most items in one model call; 1 serves requests one at a time. A single
            request larger than this still runs, alone.
        max_wait_ms: Longest wait for more requests after the first one arrives.
        on_batch: Called with the item count of every model call (for metrics).
        executor: The thread the calls run on; default: a thread of its own.
    """

    def __init__(
        self,
        embed: EmbedFn,
        max_batch: int = 64,
        max_wait_ms: float = 2.0,
        on_batch: Callable[[int], None] | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1; got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0; got {max_wait_ms}")
        self.embed = embed
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._held: _Job | None = None  # a job that did not fit the last batch
        self._own_executor = executor is None
        self._executor = executor

    async def start(self) -> None:
        """Start the worker on the running event loop."""
        if self._worker is None:
            if self._own_executor:  # a fresh thread each start, so a stopped batcher restarts
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="siamkit-model")
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker; requests still waiting fail with RuntimeError."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        pending = [self._held] if self._held else []
        self._held = None
        while self._queue is not None and not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for job in pending:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the service is shutting down"))
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=False)

    async def submit(self, items: Batch) -> Any:
        """Embed ``items`` (``n`` of them) as part of a shared batch; returns ``(n, D)`` (the
        function's ``n`` result rows).

        Raises:
            RuntimeError: The batcher is not started.
            Exception: Whatever the model raised on these items alone.
        """
        if self._queue is None or self._worker is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        future: asyncio.Future[npt.NDArray[np.float32]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(items, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._gather()
            batch = _concat([j.items for j in jobs])
            size = len(batch)
            try:
                out = await loop.run_in_executor(self._executor, self.embed, batch)
            except Exception:
                if len(jobs) == 1:
                    await self._run_alone(jobs[0])
                    continue
                for job in jobs:  # find the culprit; the others still get their answer
                    await self._run_alone(job)
                continue
            if self.on_batch is not None:
                self.on_batch(size)
            start = 0
            for job in jobs:
                n = len(job.items)
                if not job.future.done():
                    job.future.set_result(out[start : start + n])
                start += n

    async def _run_alone(self, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        try:
            out = await loop.run_in_executor(self._executor, self.embed, job.items)
        except Exception as e:
            if not job.future.done():
                job.future.set_exception(e)
            return
        if self.on_batch is not None:
            self.on_batch(len(job.items))
        if not job.future.done():
            job.future.set_result(out)

    async def _gather(self) -> list[_Job]:
        """The next batch: the first waiting job, then more until full or the wait is over."""
        assert self._queue is not None
        first = self._held or await self._queue.get()
        self._held = None
        jobs, count = [first], len(first.items)
        deadline = time.monotonic() + self.max_wait
        while count < self.max_batch:
            try:
                job = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            if count + len(job.items) > self.max_batch:
                self._held = job  # starts the next batch
                break
            jobs.append(job)
            count += len(job.items)
        return jobs


def _concat(parts: list[Batch]) -> Batch:
    if isinstance(parts[0], list):
        texts: list[str] = []
        for p in parts:
            texts += list(p)
        return texts
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([np.asarray(p) for p in parts])
