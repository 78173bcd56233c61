"""The ``siamkit`` console script: ``--version`` answers at once, anything else loads the
commands (:mod:`siamkit.cli.main`)."""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point: ``siamkit --version`` answers before any command is loaded."""
    if sys.argv[1:] == ["--version"]:
        from siamkit import __version__

        print(f"siamkit {__version__}")
        return
    from siamkit.cli.main import main as run_commands

    run_commands()
