"""Applications plug into siamkit from the top: this module finds and imports them.

A plugin is a module that, when imported, registers what it adds: data sources
(:data:`siamkit.data.SOURCES`), model kinds (:data:`siamkit.run.EMBEDDERS`) and CLI command
groups (:data:`siamkit.cli.groups.COMMAND_GROUPS`), each by name, lazily where the thing is
heavy. Plugins are declared as entry points in the group ``siamkit.plugins`` (siamkit's own
applications in its ``pyproject.toml``; a third-party package adds its own the same way), so the
layers below the applications never import them. Registries call :func:`load_plugins` when a
name they are asked for is missing.

Example (a third-party package's ``pyproject.toml``)::

    [project.entry-points."siamkit.plugins"]
    palms = "siamkit_palms.plugin"
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

GROUP = "siamkit.plugins"
# siamkit's own applications, used when the installed metadata declares none (a source tree
# on PYTHONPATH without `pip install`); an installed siamkit reads them from its entry points.
BUNDLED = (
    "siamkit.apps.faces.plugin",
    "siamkit.apps.glyphs.plugin",
    "siamkit.apps.signatures.plugin",
    "siamkit.apps.omniglot.plugin",
    "siamkit.apps.recommend.plugin",
    "siamkit.apps.tracking.plugin",
)

_loaded: list[str] = []


def plugin_modules() -> list[str]:
    """The plugin modules to import: the entry points of group ``siamkit.plugins``, else the
    bundled applications."""
    found = sorted({ep.value.partition(":")[0] for ep in entry_points(group=GROUP)})
    return found or list(BUNDLED)


def load_plugins() -> list[str]:
    """Import every plugin module once (importing registers it); returns their names.

    Raises:
        ImportError: A plugin module failed to import; the message names it.
    """
    if not _loaded:  # a plugin that asks a registry for a name while importing finds this set
        names = plugin_modules()
        _loaded.extend(names)
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError as e:
                _loaded.clear()
                raise ImportError(f"siamkit plugin {name} failed to import: {e}") from e
    return list(_loaded)
