"""Progress of long library work (embedding, enrolling, scoring), told to whoever listens.

Library functions that loop over many items open a task here and advance it; by default nobody
listens and a task costs one function call per step. A front end listens for the length of a
``with reporting(...)`` block: the CLI shows a bar with counts and rate on a terminal
(:mod:`siamkit.cli.progress`), a notebook can show its own. The listener is held in a context
variable, so it reaches nested calls without being passed through every signature, and nothing
changes for code outside the block (another thread or an async task keeps its own).

Example:
    >>> from contextlib import contextmanager
    >>> class Log:
    ...     @contextmanager
    ...     def task(self, description, total):
    ...         yield lambda n: print(f"{description}: +{n} of {total}")
    >>> with reporting(Log()):
    ...     with task("embedding", total=5) as advance:
    ...         advance(3)
    ...         advance(2)
    embedding: +3 of 5
    embedding: +2 of 5
    >>> with task("embedding", total=5) as advance:  # nobody listens: nothing happens
    ...     advance(5)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Protocol

Advance = Callable[[int], None]
"""Called with the number of items just finished."""


class Reporter(Protocol):
    """What listens to progress: opens a task of ``total`` items (None when unknown)."""

    def task(self, description: str, total: int | None) -> AbstractContextManager[Advance]:
        """A context that yields the task's ``advance`` and ends the task on exit."""
        ...


def _ignore(n: int) -> None:
    del n


class _Silent:
    def task(self, description: str, total: int | None) -> AbstractContextManager[Advance]:
        del description, total
        return nullcontext(_ignore)


_SILENT = _Silent()
_LISTENER: ContextVar[Reporter | None] = ContextVar("siamkit_progress", default=None)


def task(description: str, total: int | None = None) -> AbstractContextManager[Advance]:
    """Open a task of ``total`` items with the current listener; yields ``advance(n)``."""
    return (_LISTENER.get() or _SILENT).task(description, total)


def listener() -> Reporter | None:
    """The reporter listening here, or None."""
    return _LISTENER.get()


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Send the progress of everything run inside the block to ``reporter``."""
    token = _LISTENER.set(reporter)
    try:
        yield reporter
    finally:
        _LISTENER.reset(token)
