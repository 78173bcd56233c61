"""Tiny MovieLens folders in the original layout, made by the tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

GENRES = ("Comedy", "Drama", "Horror")


def write_movielens(folder: Path, n_users: int = 24, n_items: int = 30, seed: int = 0) -> Path:
    """``ratings.csv`` + ``movies.csv``: three genre groups; each user likes one group.

    Item ``i`` has movieId ``10 * (i + 1)``, genre ``GENRES[i % 3]``, year ``1950 + 2 * i``
    and a title with a comma in it for every fifth movie (quoted in the CSV).
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "movies.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["movieId", "title", "genres"])
        for i in range(n_items):
            name = f"Movie {i}, The" if i % 5 == 0 else f"Movie {i}"
            genres = f"{GENRES[i % 3]}|Extra" if i % 7 == 0 else GENRES[i % 3]
            w.writerow([10 * (i + 1), f"{name} ({1950 + 2 * i})", genres])
        w.writerow([10 * (n_items + 1), "Babylon 5", "(no genres listed)"])  # never rated
    with (folder / "ratings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for u in range(n_users):
            group = u % 3
            mine = [i for i in range(n_items) if i % 3 == group]
            others = [i for i in range(n_items) if i % 3 != group]
            picks = rng.permutation(mine)[:8].tolist() + rng.permutation(others)[:3].tolist()
            for t, i in enumerate(rng.permutation(picks)):
                stars = 5.0 if i % 3 == group else 2.0
                w.writerow([u + 1, 10 * (i + 1), stars, 1_000_000 + 100 * u + t])
    return folder
