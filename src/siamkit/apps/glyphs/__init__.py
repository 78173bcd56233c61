"""Glyphs: a one-shot data set rendered from installed fonts, in Omniglot's layout.

One class per letter of a script, one image per font and distortion; ``siamkit glyphs render``
writes it, and the one-shot scoring of :mod:`siamkit.apps.omniglot` reads it. The recipe:
docs/applications/glyphs.md.

``siamkit glyphs render --out DIR`` renders the full set from every installed font; the
example of :mod:`siamkit.apps.glyphs.dataset` renders a tiny one and shows what it writes.
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "dataset": (
        "GlyphClass",
        "GlyphSetConfig",
        "plan_glyph_set",
        "render_glyph_set",
        "split_scripts",
    ),
    "render": (
        "Distortion",
        "DistortionRanges",
        "is_drawn",
        "load_font",
        "notdef_image",
        "render_glyph",
    ),
    "scripts": (
        "SCRIPTS",
        "find_fonts",
        "font_cmap",
        "script_letters",
    ),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)
