"""The signatures application plugged into siamkit: the ``cedar`` and ``cedar-hands`` data
sources and ``siamkit signatures``.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only (the sources' module,
with torch, is imported when a source is first used).
"""

from __future__ import annotations

from siamkit.cli.groups import COMMAND_GROUPS
from siamkit.data.registry import register_lazy_source

register_lazy_source("cedar", "siamkit.apps.signatures.cedar:cedar", "image")
register_lazy_source("cedar-hands", "siamkit.apps.signatures.cedar:cedar_hands", "image")
COMMAND_GROUPS.register_lazy("signatures", "siamkit.apps.signatures.cli:signatures_app")
