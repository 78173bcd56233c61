"""Progress for long commands: a bar with counts and rate on a terminal, nothing in a pipe.

Shown on stderr, only when stderr is a terminal and the command is not printing ``--json``,
so scripted output is never mixed with it. A command wraps its work in :func:`status`: the
command's message turns with a spinner, and every counted step the library reports inside
(:mod:`siamkit.progress`: reading images, embedding, enrolling ...) gets a bar of its own with
its count, rate and time left, gone when the step ends.

Example:
    >>> from siamkit.progress import task
    >>> with status("embedding photos"):  # off a terminal (as here): shows nothing
    ...     with task("embedding", total=3) as advance:
    ...         advance(3)
    >>> shown(as_json=True)  # never a bar beside --json output
    False
"""

from __future__ import annotations

from collections.abc import Iterator
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


def shown(as_json: bool = False, console: Console | None = None) -> bool:
    """Whether progress goes to the terminal: stderr (or ``console``) is one, and no JSON is
    being printed."""
    return (console or err).is_terminal and not as_json


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
    if not shown(as_json, console):
        yield
        return
    with _bar(console) as bar:
        bar.add_task(message, total=None)
        with reporting(BarReporter(bar)):
            yield
