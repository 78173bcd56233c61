r"""Recommendations served by the gallery: similar items, and items for a user's history.

Every item's embedding is enrolled in ``RUN/gallery`` (a :class:`siamkit.index.Gallery`,
label = ``movieId``, metadata = title); queries go through it:

* similar items: :meth:`Gallery.similar` of the item's gallery entry;
* a history: the normalised mean of the history items' embeddings (read from the gallery) is
  searched with :meth:`Gallery.identify_embeddings`; items the user has already rated are
  skipped.

Example (``runs/movies``: the run :func:`siamkit.apps.recommend.recipe.run_recipe` made from a
tiny MovieLens folder: eight 1995 movies, eight users who each like four of them, movies 1-4
or movies 5-8):
    >>> from siamkit.apps.recommend import load_run
    >>> run = load_run("runs/movies")
    >>> [r.title for r in similar_items(run, "Toy Story (1995)", k=3)]
    ['Balto (1995)', 'Babe (1995)', 'Jumanji (1995)']
    >>> [r.title for r in recommend_for_history(run, ["Heat (1995)", "Casino (1995)"], k=2)]
    ['Se7en (1995)', 'Copycat (1995)']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from siamkit.apps.recommend.features import item_features
from siamkit.apps.recommend.item_embedder import ItemEmbedder
from siamkit.apps.recommend.lookup import check_user, find_item, find_items
from siamkit.apps.recommend.ratings_data import F32, ItemTable
from siamkit.apps.recommend.run import GALLERY, RecommendRun
from siamkit.apps.recommend.titles import title_vectors
from siamkit.index import Gallery

if TYPE_CHECKING:
    from siamkit.index import Gallery

ANY_DISTANCE = 2.0  # cosine distances are at most 2: every item is a candidate, none rejected


@dataclass(frozen=True)
class Recommendation:
    """One recommended item.

    Attributes:
        title: Its title.
        movie_id: Its ``movieId``.
        distance: Cosine distance to the query (smaller = closer).
    """

    title: str
    movie_id: int
    distance: float


def build_gallery(run: RecommendRun) -> Path:
    """Create ``RUN/gallery`` and enroll every item's embedding; returns its path."""

    path = run.path / GALLERY
    embedder = ItemEmbedder(run.tower)
    with Gallery.create(path, embedder, threshold=ANY_DISTANCE) as gal:
        meta = [
            {"title": t, "cold": bool(c)} for t, c in zip(run.items.titles, run.cold, strict=True)
        ]
        gal.enroll_embeddings(
            run.embeddings,
            [str(int(i)) for i in run.items.item_ids],
            metadata=meta,
            fingerprint=embedder.fingerprint,
        )
    return path


def _open(run: RecommendRun) -> Gallery:

    return Gallery.open(run.path / GALLERY, embedder=ItemEmbedder(run.tower))


def _by_movie(run: RecommendRun) -> dict[int, int]:
    return {int(m): i for i, m in enumerate(run.items.item_ids)}


def similar_items(run: RecommendRun, title: str, k: int = 10) -> list[Recommendation]:
    """The ``k`` items nearest to ``title`` in the gallery.

    Raises:
        ValueError: Unknown title (with close matches).
    """
    row = find_item(run.items, title)
    index = _by_movie(run)
    with _open(run) as gal:
        (entry,) = gal.list(label=str(int(run.items.item_ids[row])), limit=1)
        hits = gal.similar(entry.id, k)
    return [
        Recommendation(run.items.titles[index[int(h.label)]], int(h.label), h.distance)
        for h in hits
    ]


def user_history(run: RecommendRun, user: int) -> tuple[np.ndarray, np.ndarray]:
    """``(liked items, every rated item)`` of ``user`` (item indices, liked in time order).

    Only the last ``run.history`` likes are returned when the run chose a shorter history
    on validation.

    Raises:
        ValueError: Unknown user (with the id range and close ids).
    """
    check_user(run.ratings.user, user)
    mine = np.flatnonzero(run.ratings.user == user)
    liked = mine[run.ratings.rating[mine] >= run.like_threshold]
    liked = liked[np.lexsort((run.ratings.item[liked], run.ratings.timestamp[liked]))]
    if run.history:
        liked = liked[-run.history :]
    return run.ratings.item[liked], np.unique(run.ratings.item[mine])


def recommend_for_history(
    run: RecommendRun,
    history: Sequence[str] | np.ndarray,
    k: int = 10,
    exclude: np.ndarray | None = None,
) -> list[Recommendation]:
    """The ``k`` items nearest to the mean of a history, leaving out the history itself.

    Args:
        run: The run.
        history: Titles, or item indices.
        k: How many.
        exclude: More item indices to leave out (e.g. everything the user rated).

    Raises:
        ValueError: Unknown titles (all named, with close matches) or an empty history.
    """
    rows = (
        np.asarray(history, dtype=np.int64)
        if isinstance(history, np.ndarray)
        else find_items(run.items, list(history))
    )
    if len(rows) == 0:
        raise ValueError("the history is empty: give at least one liked title")
    skip = {int(r) for r in rows} | ({int(r) for r in exclude} if exclude is not None else set())
    index = _by_movie(run)
    with _open(run) as gal:
        gids = [gal.list(label=str(int(run.items.item_ids[r])), limit=1)[0].id for r in rows]
        stored = [gal.get(i).embedding for i in gids]
        vectors = np.stack([v for v in stored if v is not None])  # (H, D)
        q = vectors.mean(axis=0)
        q /= max(float(np.linalg.norm(q)), 1e-12)
        (found,) = gal.identify_embeddings(q[None, :], min(k + len(skip), len(gal)))
    out = []
    for c in found.candidates:
        row = index[int(c.label)]
        if row not in skip:
            out.append(Recommendation(run.items.titles[row], int(c.label), c.distance))
    return out[:k]


def embed_new_items(
    run: RecommendRun, items: ItemTable, cache_dir: str | Path | None = None
) -> F32:
    """``(N, D)`` embeddings of items the run never saw (no ratings), from their features.

    The titles go through the run's text encoder (cached), then genres, year and title through
    the tower's feature path: the cold-start embedding. Enroll them with
    ``Gallery.enroll_embeddings`` to make them recommendable.
    """
    titles = (
        title_vectors(items.titles, run.spec.text_model, cache_dir) if run.spec.text_dim else None
    )
    x = item_features(items, run.spec, titles)
    return ItemEmbedder(run.tower).embed(x)
