"""Item features the Siamese tower reads: genres, year and title text.

One row per item, the blocks side by side::

    [ genres multi-hot (G) | year z-score, year unknown | decade one-hot (D) | title (T) ]

The :class:`FeatureSpec` (genre vocabulary, year mean and std, decades, text model) is fitted
on the catalogue once and saved with the run, so a new item (no ratings) gets exactly the
columns the trained tower expects: that is what makes cold-start recommendations possible.

Example:
    >>> items = ItemTable(
    ...     item_ids=np.array([1, 6]),
    ...     titles=["Toy Story (1995)", "Heat (1995)"],
    ...     years=np.array([1995.0, 1995.0]),
    ...     genres=[("Animation", "Children"), ("Action", "Crime")],
    ... )
    >>> spec = FeatureSpec.fit(items, text_model="minilm")
    >>> spec.genres, spec.n_features  # 4 genres + year, unknown-year flag + 11 decades + 384
    (('Action', 'Animation', 'Children', 'Crime'), 401)
    >>> titles = np.zeros((2, 384), dtype=np.float32)  # stand-ins for title_vectors(items.titles)
    >>> item_features(items, spec, titles).shape  # (I, F)
    (2, 401)
    >>> item_features(items, FeatureSpec.fit(items, text_model="none"), None)[0, :6]
    array([0., 1., 1., 0., 0., 0.], dtype=float32)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.apps.recommend.ratings_data import F32, ItemTable

DECADES = tuple(range(1920, 2030, 10))  # a year falls in the last decade start <= year


@dataclass(frozen=True)
class FeatureSpec:
    """How items become feature rows (saved as JSON beside the tower).

    Attributes:
        genres: The genre vocabulary, sorted; unknown genres of new items are ignored.
        year_mean: Mean release year of the fitting items.
        year_std: Its standard deviation.
        decades: Decade starts of the one-hot year buckets (years before the first go there).
        text_model: The title encoder (``minilm``, ``hf:PATH``, or ``none`` for no titles).
        text_dim: Size of a title vector (0 without titles).
    """

    genres: tuple[str, ...]
    year_mean: float
    year_std: float
    decades: tuple[int, ...] = DECADES
    text_model: str = "minilm"
    text_dim: int = 384

    @classmethod
    def fit(cls, items: ItemTable, text_model: str = "minilm", text_dim: int = 384) -> FeatureSpec:
        """Vocabulary and year statistics of ``items``."""
        years = items.years[~np.isnan(items.years)]
        mean = float(years.mean()) if len(years) else 2000.0
        std = float(years.std()) if len(years) > 1 else 1.0
        genres = tuple(sorted({g for gs in items.genres for g in gs}))
        dim = 0 if text_model == "none" else text_dim
        return cls(genres, mean, max(std, 1e-6), DECADES, text_model, dim)

    @property
    def n_features(self) -> int:
        """``F``: columns of a feature row."""
        return len(self.genres) + 2 + len(self.decades) + self.text_dim

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(d["genres"]),
            float(d["year_mean"]),
            float(d["year_std"]),
            tuple(int(x) for x in d["decades"]),
            str(d["text_model"]),
            int(d["text_dim"]),
        )


def genre_block(genres: list[tuple[str, ...]], vocabulary: tuple[str, ...]) -> F32:
    """``(N, G)`` multi-hot: 1 where the item lists that genre."""
    col = {g: i for i, g in enumerate(vocabulary)}
    out = np.zeros((len(genres), len(vocabulary)), dtype=np.float32)
    for row, gs in enumerate(genres):
        for g in gs:
            if g in col:
                out[row, col[g]] = 1.0
    return out


def year_block(years: npt.ArrayLike, spec: FeatureSpec) -> F32:
    """``(N, 2 + len(decades))``: z-scored year (0 if unknown), unknown flag, decade one-hot."""
    y = np.asarray(years, dtype=np.float64)
    out = np.zeros((len(y), 2 + len(spec.decades)), dtype=np.float32)
    for row, year in enumerate(y):
        if math.isnan(year):
            out[row, 1] = 1.0
            continue
        out[row, 0] = (year - spec.year_mean) / spec.year_std
        bucket = max(int(np.searchsorted(spec.decades, year, side="right")) - 1, 0)
        out[row, 2 + bucket] = 1.0
    return out


def item_features(items: ItemTable, spec: FeatureSpec, titles: F32 | None) -> F32:
    """``(I, F)`` feature rows of ``items``.

    Args:
        items: The items.
        spec: The fitted spec.
        titles: ``(I, T)`` title vectors (from :func:`~siamkit.apps.recommend.titles.
            title_vectors`), or None when ``spec.text_model == "none"``.

    Raises:
        ValueError: Title vectors missing or of the wrong shape.
    """
    blocks = [genre_block(items.genres, spec.genres), year_block(items.years, spec)]
    if spec.text_dim:
        if titles is None or titles.shape != (items.n, spec.text_dim):
            got = None if titles is None else titles.shape
            raise ValueError(
                f"title vectors must be ({items.n}, {spec.text_dim}) for {spec.text_model}; "
                f"got {got}"
            )
        blocks.append(np.asarray(titles, dtype=np.float32))
    return np.concatenate(blocks, axis=1)
