"""The Omniglot application plugged into siamkit: the ``omniglot`` data source.

Imported by :func:`siamkit.plugins.load_plugins`; registers by name only. Its one-shot scoring
is run by ``siamkit glyphs oneshot`` (:mod:`siamkit.apps.glyphs.cli`).
"""

from __future__ import annotations

from siamkit.data.registry import register_lazy_source

register_lazy_source("omniglot", "siamkit.apps.omniglot.layout:omniglot", "image")
