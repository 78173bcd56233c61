"""Options shared by several commands, declared once (typer reads the ``Annotated`` metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)
out = Console()

RunDir = Annotated[Path, typer.Argument(help="A run directory from `siamkit train`.")]
DataSource = Annotated[str | None, typer.Option(help="Data source; default: the run's.")]
Split = Annotated[str, typer.Option(help="train | test split where the source has them.")]
VerifyPairs = Annotated[int, typer.Option(help="Balanced pairs for verification metrics.")]
Bootstrap = Annotated[int, typer.Option(help="Bootstrap resamples for the 95% intervals.")]
Episodes = Annotated[int, typer.Option(help="Few-shot episodes per configuration.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise (status 2: bad input)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)  # keeps [extra] text
    return typer.Exit(code)


def parse_loss_options(items: list[str] | None) -> dict[str, float] | None:
    """``["beta=20", "base=0.3"]`` (repeated ``--loss-option``) as ``{"beta": 20.0, ...}``.

    Raises:
        ValueError: An item that is not ``KEY=NUMBER``, naming it.

    Example:
        >>> parse_loss_options(["beta=20", "base=0.3"])
        {'beta': 20.0, 'base': 0.3}
    """
    if not items:
        return None
    options: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not key.strip() or number is None:
            raise ValueError(f"--loss-option {item!r}: expected KEY=NUMBER, e.g. beta=20")
        options[key.strip()] = number
    return options
