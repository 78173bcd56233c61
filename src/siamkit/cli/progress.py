"""Progress for long commands: a bar with counts and rate on a terminal, nothing in a pipe.

Shown on stderr, only when stderr is a terminal and the command is not printing ``--json``,
so scripted output is never mixed with it. A command wraps its work in :func:`status`: the
command's message turns with a spinner, and every counted step the library reports inside
(:mod:`siamkit.progress`: reading images, embedding, enrolling ...) gets a bar of its own with
its count, rate and time left, gone when the step ends.

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

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from siamkit.cli.options import err
from siamkit.progress import Advance, reporting


class CountColumn(ProgressColumn):
    """``done/total`` items, or nothing for a step without a count."""

    def render(self, task: Task) -> Text:
        """The task's count."""
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed):,}/{int(task.total):,}", style="progress.download")


class RateColumn(ProgressColumn):
    """Items per second, or nothing for a step without a count."""

    def render(self, task: Task) -> Text:
        """The task's speed, or a dash before there is one."""
        if task.total is None:
            return Text("")
        speed = task.speed
        return Text("-" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


def shown(as_json: bool = False) -> bool:
    """Whether progress goes to the terminal: stderr is one, and no JSON is being printed."""
    return err.is_terminal and not as_json


def _bar(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        # a long path in the message is cut, never the counts
        TextColumn(
            "{task.description}",
            table_column=Column(max_width=48, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=30),
        CountColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


class BarReporter:
    """Shows each :mod:`siamkit.progress` task as a row of ``bar`` while it runs."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Advance]:
        """A row for the step, removed when it ends."""
        row = self.bar.add_task(description, total=total)
        try:
            yield lambda n: self.bar.advance(row, n)
        finally:
            self.bar.refresh()  # the step's last count is drawn once, however quick it was
            self.bar.remove_task(row)


@contextmanager
def status(message: str, as_json: bool = False, console: Console | None = None) -> Iterator[None]:
    """``message`` with a spinner while the block runs, and a bar with counts and rate for
    each counted step the library reports inside it. Silent off a terminal or with --json."""
    console = console or err
    if not (console.is_terminal and not as_json):
        yield
        return
    with _bar(console) as bar:
        bar.add_task(message, total=None)
        with reporting(BarReporter(bar)):
            yield


@contextmanager
def progress_bar(
    total: int, description: str, as_json: bool = False
) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` items; yields ``advance(n)``. Silent off a terminal or with --json."""
    if not shown(as_json):
        yield lambda n: None
        return
    with _bar(err) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
