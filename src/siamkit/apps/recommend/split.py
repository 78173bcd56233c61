"""Leave-last-out per user, and items held out whole for the cold-start figure.

Each user's *last liked* item (rating >= the like threshold, latest timestamp; ties broken by
item index) is the target; every other rating of the user stays on the training side. Calling
:func:`leave_last_out` again on the training side gives the validation split (each user's
second-to-last liked item), so model selection never reads the test targets.

Example (user 1 likes items 3, 1, 2 in that order and dislikes item 0):
    >>> ratings = Ratings(
    ...     user=np.array([1, 1, 1, 1]),
    ...     item=np.array([3, 0, 1, 2]),
    ...     rating=np.array([5.0, 1.0, 4.5, 4.0], dtype=np.float32),
    ...     timestamp=np.array([10, 20, 30, 40]),
    ... )
    >>> test = leave_last_out(ratings)
    >>> test.cases[0].target, test.cases[0].history, test.cases[0].seen
    (2, array([3, 1]), array([0, 1, 3]))
    >>> val = leave_last_out(ratings, test.train)  # carved from the training side
    >>> val.cases[0].target, val.cases[0].history
    (1, array([3]))
    >>> test.train.tolist(), val.train.tolist()  # which ratings stay for training
    ([True, True, True, False], [True, True, False, False])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from siamkit.apps.recommend.ratings_data import I64, Ratings

Mask = npt.NDArray[np.bool_]
LIKE_THRESHOLD = 4.0  # stars: a rating at least this is a "like"


@dataclass(frozen=True)
class Case:
    """One user to rank for: their held-out item and what they had before.

    Attributes:
        user: The user id.
        target: Item index to recall.
        history: Item indices the user liked on the training side, in time order.
        seen: Every item index the user rated on the training side; left out of the ranking.
    """

    user: int
    target: int
    history: I64
    seen: I64


@dataclass(frozen=True)
class Split:
    """Training rows and the users to evaluate.

    Attributes:
        train: ``(N,)`` mask of the ratings that stay for training.
        cases: One :class:`Case` per evaluated user, by user id.
    """

    train: Mask
    cases: list[Case]


def _time_order(ratings: Ratings, rows: I64) -> I64:
    """``rows`` sorted by (timestamp, item index)."""
    return rows[np.lexsort((ratings.item[rows], ratings.timestamp[rows]))]


def leave_last_out(
    ratings: Ratings,
    rows: Mask | None = None,
    like_threshold: float = LIKE_THRESHOLD,
    min_history: int = 1,
) -> Split:
    """Hold out each user's last liked item among ``rows``.

    Args:
        ratings: All ratings.
        rows: ``(N,)`` mask of the ratings to split (default: all).
        like_threshold: A rating ``>=`` this is a like.
        min_history: Likes a user needs besides the target to be evaluated; other users keep
            all their ratings for training.

    Returns:
        The training mask (``rows`` minus the targets; every rating of a user's target item
        leaves it) and the cases.
    """
    if rows is None:
        rows = np.ones(len(ratings), dtype=bool)
    train = rows.copy()
    cases: list[Case] = []
    idx = np.flatnonzero(rows)
    order = idx[np.argsort(ratings.user[idx], kind="stable")]
    users, starts = np.unique(ratings.user[order], return_index=True)
    for user, mine in zip(users, np.split(order, starts[1:]), strict=True):
        liked = _time_order(ratings, mine[ratings.rating[mine] >= like_threshold])
        if len(liked) < min_history + 1:
            continue
        target = int(ratings.item[liked[-1]])
        is_target = ratings.item[mine] == target
        train[mine[is_target]] = False
        kept = mine[~is_target]
        history = ratings.item[liked[:-1]]
        cases.append(
            Case(int(user), target, history[history != target], np.unique(ratings.item[kept]))
        )
    return Split(train, cases)


def recent(cases: list[Case], last: int) -> list[Case]:
    """The cases with each history cut to its ``last`` likes (0: the whole history).

    Example:
        >>> seen = np.array([4, 5, 6])
        >>> recent([Case(1, 9, np.array([4, 5, 6]), seen)], 2)[0].history
        array([5, 6])
    """
    if last < 0:
        raise ValueError(f"a history length must be >= 0 (0: all); got {last}")
    if last == 0:
        return list(cases)
    return [Case(c.user, c.target, c.history[-last:], c.seen) for c in cases]


def hold_out_items(
    ratings: Ratings,
    n_items: int,
    fraction: float = 0.05,
    min_likes: int = 5,
    like_threshold: float = LIKE_THRESHOLD,
    seed: int = 0,
) -> I64:
    """Items to remove from training whole, for the cold-start figure.

    Args:
        ratings: All ratings.
        n_items: Items in the catalogue.
        fraction: Share of the eligible items to hold out.
        min_likes: Only items liked by at least this many users are eligible (so that enough
            users can be asked to recall each one).
        like_threshold: A rating ``>=`` this is a like.
        seed: Random seed.

    Returns:
        Sorted item indices.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"cold-start fraction must be in [0, 1); got {fraction}")
    likes = np.bincount(ratings.item[ratings.rating >= like_threshold], minlength=n_items)
    eligible = np.flatnonzero(likes >= min_likes)
    n = round(fraction * len(eligible))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(eligible, size=n, replace=False)).astype(np.int64)


def cold_start_cases(
    ratings: Ratings,
    train: Mask,
    cold_items: I64,
    like_threshold: float = LIKE_THRESHOLD,
) -> list[Case]:
    """Users who liked a held-out item: recall their last liked one among the held-out items.

    The history is the user's likes on the training side (``train``, which holds no held-out
    item); ``seen`` is the other held-out items the user rated (left out of the ranking).
    Users without a like on the training side are skipped.
    """
    is_cold = np.isin(ratings.item, cold_items)
    cases: list[Case] = []
    for user in np.unique(ratings.user[is_cold]):
        mine = ratings.user == user
        cold_liked = np.flatnonzero(mine & is_cold & (ratings.rating >= like_threshold))
        history_rows = _time_order(
            ratings, np.flatnonzero(mine & train & (ratings.rating >= like_threshold))
        )
        if len(cold_liked) == 0 or len(history_rows) == 0:
            continue
        target = int(ratings.item[_time_order(ratings, cold_liked)[-1]])
        other = np.unique(ratings.item[mine & is_cold])
        cases.append(Case(int(user), target, ratings.item[history_rows], other[other != target]))
    return cases
