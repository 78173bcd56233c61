"""siamkit.progress: tasks reach the listener of the enclosing ``reporting`` block, and only it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from siamkit.progress import Advance, reporting, task


class Recorder:
    """Keeps (description, total, advances) of every task opened with it."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None, list[int]]] = []

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Advance]:
        steps: list[int] = []
        self.tasks.append((description, total, steps))
        yield steps.append


def test_a_task_reaches_the_listener_with_its_total_and_steps() -> None:
    rec = Recorder()
    with reporting(rec), task("embedding", total=10) as advance:
        advance(4)
        advance(6)
    assert rec.tasks == [("embedding", 10, [4, 6])]


def test_without_a_listener_a_task_does_nothing_and_after_the_block_nobody_listens() -> None:
    rec = Recorder()
    with task("before", 3) as advance:
        advance(3)
    with reporting(rec):
        pass
    with task("after", 3) as advance:
        advance(3)
    assert rec.tasks == []


def test_an_inner_listener_hides_the_outer_one_and_hands_back_on_exit() -> None:
    outer, inner = Recorder(), Recorder()
    with reporting(outer):
        with reporting(inner), task("inner", 1) as advance:
            advance(1)
        with task("outer", 2) as advance:
            advance(2)
    assert [t[0] for t in inner.tasks] == ["inner"]
    assert [t[0] for t in outer.tasks] == ["outer"]


def test_another_thread_does_not_hear_this_threads_listener() -> None:
    rec = Recorder()

    def work() -> None:
        with task("elsewhere", 1) as advance:
            advance(1)

    with reporting(rec):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert rec.tasks == []
