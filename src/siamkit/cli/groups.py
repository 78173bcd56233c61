"""The commands applications add to ``siamkit``: command groups and single commands, by name.

An application's plugin (:mod:`siamkit.plugins`) registers its typer groups in
:data:`COMMAND_GROUPS`, its top-level commands in :data:`COMMANDS` and the pretrained models
``siamkit init --encoder NAME`` writes in :data:`INIT_ENCODERS`, lazily as
``"module:attribute"``; :mod:`siamkit.cli.main` adds them all with :func:`add_plugin_commands`,
so the CLI below the applications never names them.

Example (an application's ``plugin.py``):
    >>> COMMAND_GROUPS.register_lazy("palms", "siamkit_palms.cli:palms_app")
    >>> COMMANDS.register_lazy("match", "siamkit_palms.cli:match")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from siamkit.plugins import load_plugins
from siamkit.registry import Registry

if TYPE_CHECKING:
    import typer

COMMAND_GROUPS: Registry[typer.Typer] = Registry("command group")  # name -> typer.Typer
COMMANDS: Registry[Any] = Registry("command")  # name -> a typer command function
# `siamkit init RUN --encoder NAME` for an application's pretrained model: NAME -> a function
# (run_dir: Path, threshold: float | None) -> str that writes the folder and says what it wrote
INIT_ENCODERS: Registry[str] = Registry("init encoder")


def add_plugin_commands(app: typer.Typer) -> None:
    """Load the plugins and add every command and command group they register to ``app``,
    in name order (the order ``siamkit --help`` lists them in).

    Raises:
        ImportError: A plugin, or a module it names, failed to import.
    """
    load_plugins()
    entries = [(name, False) for name in COMMANDS] + [(name, True) for name in COMMAND_GROUPS]
    for name, is_group in sorted(entries):
        if is_group:
            app.add_typer(cast("typer.Typer", COMMAND_GROUPS.get(name)), name=name)
        else:
            app.command(name)(COMMANDS.get(name))
