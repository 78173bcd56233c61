"""Glyphs: a one-shot data set rendered from installed fonts, in Omniglot's layout.

One class per letter of a script, one image per font and distortion; ``siamkit glyphs render``
writes it, and the one-shot scoring of :mod:`siamkit.apps.omniglot` reads it. The recipe:
docs/applications/glyphs.md.

Example (a tiny set: four scripts of five letters, four images each, from the DejaVu fonts;
``GlyphSetConfig()`` renders the full set from every installed font):
    >>> from siamkit.apps.glyphs import GlyphSetConfig, render_glyph_set
    >>> config = GlyphSetConfig(
    ...     size=16,
    ...     instances=4,
    ...     scripts=("Greek", "Cyrillic", "Armenian", "Latin"),
    ...     min_chars=5,
    ...     max_chars=5,
    ...     val_scripts=1,
    ...     font_dirs=("/usr/share/fonts/truetype/dejavu",),
    ... )
    >>> manifest = render_glyph_set(config, "data/glyphs")
    >>> manifest["background"], manifest["evaluation"]  # scripts, split whole
    (['Cyrillic', 'Latin'], ['Armenian', 'Greek'])
    >>> print(open("data/glyphs/recipe.yaml").read().strip())  # siamkit train --config
    data: "omniglot:data/glyphs"
    train_classes: "0-9"
    val_classes: "5-9"
    val_fraction: 0.0
    eval_classes: "10-19"
    refit: false
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
