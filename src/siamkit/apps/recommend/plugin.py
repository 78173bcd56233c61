"""The recommendations application plugged into siamkit: ``siamkit recommend``.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only.
"""

from __future__ import annotations

from siamkit.cli.groups import COMMAND_GROUPS

COMMAND_GROUPS.register_lazy("recommend", "siamkit.apps.recommend.cli:recommend_app")
