r"""A recommendation run directory: the tower, the catalogue, the ratings and the gallery.

::

    RUN/config.json        recipe settings, the chosen tower settings, feature spec, tower shape
    RUN/metrics.json       the evaluation table, cold-start figures, validation selection
    RUN/tower.safetensors  the item tower's weights
    RUN/movies.csv         the catalogue in MovieLens' layout (movieId,title,genres)
    RUN/arrays.npz         features (I, F), embeddings (I, D), known/cold masks, the ratings
    RUN/gallery/           a siamkit gallery of every item's embedding (label = movieId)

Example (``runs/movies``: the run :func:`siamkit.apps.recommend.recipe.run_recipe` made from a
tiny MovieLens folder, eight movies and eight users):
    >>> run = load_run("runs/movies")
    >>> run.items.n, run.embeddings.shape, run.items.titles[:2]
    (8, (8, 8), ['Toy Story (1995)', 'Jumanji (1995)'])
    >>> sorted(p.name for p in run.path.iterdir())
    ['arrays.npz', 'config.json', 'gallery', 'metrics.json', 'movies.csv', 'tower.safetensors']
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

from siamkit.apps.recommend.features import FeatureSpec
from siamkit.apps.recommend.movielens import read_movies_csv
from siamkit.apps.recommend.ratings_data import F32, ItemTable, Ratings
from siamkit.apps.recommend.tower import ItemTower, TowerShape
from siamkit.run.files import write_json
from siamkit.run.format import folder_header, header

CONFIG = "config.json"
KIND = "recommend"  # the model kind config.json records (siamkit.run.format)
METRICS = "metrics.json"
WEIGHTS = "tower.safetensors"
MOVIES = "movies.csv"
ARRAYS = "arrays.npz"
GALLERY = "gallery"


@dataclass
class RecommendRun:
    """A loaded run.

    Attributes:
        path: The run directory.
        config: ``config.json``.
        spec: How items become features.
        tower: The trained item tower (eval mode).
        items: The catalogue.
        features: ``(I, F)``.
        embeddings: ``(I, D)`` (as enrolled in the gallery).
        known: ``(I,)`` items the tower saw liked (embedded with their id).
        cold: ``(I,)`` items held out of training for the cold-start figure.
        ratings: Every rating of the source (histories for ``--user``).
        like_threshold: A rating at least this is a like.
        history: The query's history length chosen on validation (last likes; 0: all).
    """

    path: Path
    config: dict[str, Any]
    spec: FeatureSpec
    tower: ItemTower
    items: ItemTable
    features: F32
    embeddings: F32
    known: np.ndarray
    cold: np.ndarray
    ratings: Ratings
    like_threshold: float
    history: int = 0


def write_movies_csv(path: Path, items: ItemTable) -> None:
    """The catalogue as MovieLens' ``movies.csv``."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["movieId", "title", "genres"])
        for i, t, g in zip(items.item_ids, items.titles, items.genres, strict=True):
            w.writerow([int(i), t, "|".join(g) if g else "(no genres listed)"])


def save_run(
    path: str | Path,
    config: dict[str, Any],
    metrics: dict[str, Any],
    tower: ItemTower,
    items: ItemTable,
    features: F32,
    embeddings: F32,
    known: np.ndarray,
    cold: np.ndarray,
    ratings: Ratings,
) -> Path:
    """Write everything but the gallery (see :func:`siamkit.apps.recommend.serve.build_gallery`)."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tower.state_dict().items()}, str(out / WEIGHTS))
    write_movies_csv(out / MOVIES, items)
    tmp = out / "arrays.tmp.npz"
    np.savez_compressed(
        tmp,
        features=features,
        embeddings=embeddings,
        known=known,
        cold=cold,
        user=ratings.user.astype(np.int64),
        item=ratings.item.astype(np.int32),
        rating=ratings.rating.astype(np.float32),
        timestamp=ratings.timestamp.astype(np.int64),
    )
    os.replace(tmp, out / ARRAYS)
    write_json(out / METRICS, metrics)
    write_json(out / CONFIG, {**header(KIND), **config})
    return out


def load_run(path: str | Path) -> RecommendRun:
    """Read a run written by :func:`save_run`.

    Raises:
        ValueError: Not a recommendation run (names the missing file and how to make one).
    """
    p = Path(path)
    for name in (CONFIG, WEIGHTS, MOVIES, ARRAYS):
        if not (p / name).is_file():
            raise ValueError(
                f"{p} is not a recommendation run (no {name}); make one with "
                f"`siamkit recommend train --out {p}`"
            )
    _, kind = folder_header(p)
    config = json.loads((p / CONFIG).read_text())
    if "kind" in config and kind != KIND:  # runs written before the header carry none
        raise ValueError(
            f"{p} is a siamkit model of kind '{kind}', not a recommendation run; make one with "
            f"`siamkit recommend train --out DIR`"
        )
    spec = FeatureSpec.from_dict(config["features"])
    tower = ItemTower(TowerShape.from_dict(config["tower"]))
    tower.load_state_dict(load_file(str(p / WEIGHTS)))
    tower.eval()
    items = read_movies_csv(p / MOVIES)
    with np.load(p / ARRAYS) as z:
        a = {k: z[k] for k in z.files}
    ratings = Ratings(a["user"], a["item"].astype(np.int64), a["rating"], a["timestamp"])
    return RecommendRun(
        p,
        config,
        spec,
        tower,
        items,
        a["features"],
        a["embeddings"],
        a["known"],
        a["cold"],
        ratings,
        float(config["recipe"]["like_threshold"]),
        int(config.get("chosen", {}).get("tower_history", 0)),
    )
