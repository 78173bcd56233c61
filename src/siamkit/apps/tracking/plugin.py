"""The tracking application plugged into siamkit: ``siamkit track`` and ``siamkit tracker``.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only.
"""

from __future__ import annotations

from siamkit.cli.groups import COMMAND_GROUPS, COMMANDS

COMMANDS.register_lazy("track", "siamkit.apps.tracking.cli:track")
COMMAND_GROUPS.register_lazy("tracker", "siamkit.apps.tracking.cli:tracker_app")
