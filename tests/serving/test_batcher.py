"""The micro-batcher: concurrent requests share model calls, each gets exactly its own rows."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest

from siamkit.serving import MicroBatcher


class Recorder:
    """Embeds x -> x * 2 (row-wise, so every row's answer is known) and records calls."""

    def __init__(self, delay: float = 0.0, fail_on: float | None = None) -> None:
        self.calls: list[int] = []
        self.threads: set[int] = set()
        self.delay = delay
        self.fail_on = fail_on

    def __call__(self, x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float32)
        self.threads.add(threading.get_ident())
        if self.fail_on is not None and (arr == self.fail_on).any():
            raise ValueError(f"{self.fail_on} refused")
        self.calls.append(len(arr))
        time.sleep(self.delay)
        return arr * 2


async def _submit_all(b: MicroBatcher, requests: list[np.ndarray]) -> list[Any]:
    await b.start()
    try:
        return await asyncio.gather(*(b.submit(r) for r in requests), return_exceptions=True)
    finally:
        await b.stop()


def test_concurrent_requests_share_one_call_and_get_their_own_rows() -> None:
    rec = Recorder()
    sizes: list[int] = []
    b = MicroBatcher(rec, max_batch=64, max_wait_ms=200, on_batch=sizes.append)
    requests = [np.full((n, 3), i, np.float32) for i, n in enumerate([1, 2, 3, 1, 1])]
    out = asyncio.run(_submit_all(b, requests))
    assert rec.calls == [8] and sizes == [8]
    for req, res in zip(requests, out):
        np.testing.assert_array_equal(res, req * 2)
    assert threading.get_ident() not in rec.threads  # the model runs off the event loop


def test_max_batch_is_never_exceeded_and_order_is_kept() -> None:
    rec = Recorder()
    b = MicroBatcher(rec, max_batch=4, max_wait_ms=100)
    requests = [np.full((n, 1), i, np.float32) for i, n in enumerate([3, 2, 2, 1, 4, 1])]
    out = asyncio.run(_submit_all(b, requests))
    assert max(rec.calls) <= 4 and sum(rec.calls) == 13
    # a plain loop over the greedy rule: add while it fits, else start a new batch
    expected, current = [], 0
    for r in requests:
        if current and current + len(r) > 4:
            expected.append(current)
            current = 0
        current += len(r)
    expected.append(current)
    assert rec.calls == expected == [3, 4, 1, 4, 1]
    for req, res in zip(requests, out):
        np.testing.assert_array_equal(res, req * 2)


def test_a_request_larger_than_max_batch_runs_alone() -> None:
    rec = Recorder()
    b = MicroBatcher(rec, max_batch=2, max_wait_ms=50)
    out = asyncio.run(_submit_all(b, [np.ones((5, 2), np.float32)]))
    assert rec.calls == [5] and out[0].shape == (5, 2)


def test_max_batch_one_serves_one_request_per_call() -> None:
    rec = Recorder()
    b = MicroBatcher(rec, max_batch=1, max_wait_ms=50)
    asyncio.run(_submit_all(b, [np.ones((1, 2), np.float32)] * 6))
    assert rec.calls == [1] * 6


def test_no_wait_when_the_batch_cannot_fill() -> None:
    rec = Recorder()
    b = MicroBatcher(rec, max_batch=64, max_wait_ms=300)

    async def one() -> float:
        await b.start()
        t = time.perf_counter()
        await b.submit(np.ones((1, 1), np.float32))
        elapsed = time.perf_counter() - t
        await b.stop()
        return elapsed

    assert asyncio.run(one()) >= 0.25  # the bounded wait is spent waiting for company...
    b2 = MicroBatcher(rec, max_batch=1, max_wait_ms=300)

    async def full() -> float:
        await b2.start()
        t = time.perf_counter()
        await b2.submit(np.ones((1, 1), np.float32))
        elapsed = time.perf_counter() - t
        await b2.stop()
        return elapsed

    assert asyncio.run(full()) < 0.2  # ...but a full batch runs at once


def test_one_failing_request_does_not_fail_its_batch_mates() -> None:
    rec = Recorder(fail_on=13.0)
    b = MicroBatcher(rec, max_batch=64, max_wait_ms=200)
    requests = [np.full((1, 2), v, np.float32) for v in (1.0, 13.0, 2.0)]
    out = asyncio.run(_submit_all(b, requests))
    np.testing.assert_array_equal(out[0], requests[0] * 2)
    assert isinstance(out[1], ValueError) and "13.0 refused" in str(out[1])
    np.testing.assert_array_equal(out[2], requests[2] * 2)


def test_texts_are_batched_as_lists() -> None:
    seen: list[list[str]] = []

    def embed(texts: Any) -> np.ndarray:
        seen.append(list(texts))
        return np.array([[len(t)] for t in texts], np.float32)

    b = MicroBatcher(embed, max_batch=8, max_wait_ms=200)
    out = asyncio.run(_submit_all(b, [["a", "bb"], ["ccc"]]))
    assert seen == [["a", "bb", "ccc"]]
    assert out[0].tolist() == [[1.0], [2.0]] and out[1].tolist() == [[3.0]]


def test_settings_are_checked_and_submit_needs_start() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatcher(Recorder(), max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatcher(Recorder(), max_wait_ms=-1)
    with pytest.raises(RuntimeError, match="start"):
        asyncio.run(MicroBatcher(Recorder()).submit(np.ones((1, 1), np.float32)))
