"""The glyphs application plugged into siamkit: ``siamkit glyphs``.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only. The glyph sets it
renders are read by the ``omniglot`` source (:mod:`siamkit.apps.omniglot.plugin`).
"""

from __future__ import annotations

from siamkit.cli.groups import COMMAND_GROUPS

COMMAND_GROUPS.register_lazy("glyphs", "siamkit.apps.glyphs.cli:glyphs_app")
