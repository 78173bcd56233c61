"""Omniglot: its folder layout as the ``omniglot:PATH[,SET]`` data source, and one-shot scoring.

N-way one-shot accuracy within one alphabet and across alphabets, scored with the run's
distance or with a trained Koch head (:class:`KochHeadScore`). The recipe:
docs/applications/glyphs.md.

Example (a run trained on digits 0-4, scored on 5-way one-shot episodes of the unseen 5-9;
digits have no alphabets, so there are no ``within`` rows):
    >>> from siamkit.apps.omniglot import evaluate_one_shot
    >>> record = evaluate_one_shot("runs/digits", ways=(5,), episodes=20)
    >>> [(r["protocol"], r["n_way"], r["scorer"], round(r["mean"], 2)) for r in record["rows"]]
    [('across', 5, 'euclidean', 0.45)]
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "koch_head": (
        "KochHeadScore",
        "load_koch_head",
    ),
    "layout": (
        "OmniglotCharacter",
        "alphabet_of",
        "list_characters",
        "omniglot_sets",
        "recipe_config",
    ),
    "oneshot": (
        "OneShotRow",
        "episode_accuracies",
        "mean_ci95",
        "one_shot_table",
    ),
    "run": ("evaluate_one_shot",),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)
