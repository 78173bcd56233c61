"""Progress for long commands: a bar with counts and rate on a terminal, nothing in a pipe.

Shown on stderr, only when stderr is a terminal and the command is not printing ``--json``,
so scripted output is never mixed with it.

Example:
    >>> chunks, done = [["a.png", "b.png"], ["c.png"]], []
    >>> with progress_bar(3, "embedding") as advance:
    ...     for chunk in chunks:
    ...         done += chunk  # the work
    ...         advance(len(chunk))
    >>> done
    ['a.png', 'b.png', 'c.png']
    >>> shown(as_json=True)  # never a bar beside --json output
    False
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from siamkit.cli.options import err


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        """The task's speed, or a dash before there is one."""
        speed = task.speed
        return Text("-" if speed is None else f"{speed:,.0f}/s")


def shown(as_json: bool = False) -> bool:
    """Whether progress goes to the terminal: stderr is one, and no JSON is being printed."""
    return err.is_terminal and not as_json


@contextmanager
def progress_bar(
    total: int, description: str, as_json: bool = False
) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` items; yields ``advance(n)``. Silent off a terminal or with --json."""
    if not shown(as_json):
        yield lambda n: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def status(message: str, as_json: bool = False) -> Iterator[None]:
    """A spinner with ``message`` while a step without counts runs (e.g. evaluation)."""
    if not shown(as_json):
        yield
        return
    with err.status(message):
        yield
