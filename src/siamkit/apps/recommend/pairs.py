"""Co-interaction pairs: two items liked by the same user are a positive pair.

Each epoch every like ``(user, item)`` becomes an anchor paired with another item drawn
uniformly from the same user's likes; users with a single like give no pair. Negatives are not
drawn here: the other pairs of a batch are the negatives (in-batch, as in multiple-negatives
ranking), so popular items, which appear in more pairs, are also the more frequent negatives.

Example:
    >>> a, p = like_pairs(np.array([7, 7, 8]), np.array([0, 1, 2]), np.random.default_rng(0))
    >>> sorted(zip(a.tolist(), p.tolist()))  # user 8 has one like: no pair
    [(0, 1), (1, 0)]
"""

from __future__ import annotations

import numpy as np

from siamkit.apps.recommend.ratings_data import I64


def like_pairs(
    users: I64, items: I64, rng: np.random.Generator, window: int | None = None
) -> tuple[I64, I64]:
    """One (anchor, positive) item pair per like, both liked by the same user.

    Args:
        users: ``(L,)`` user of each like; each user's likes in time order.
        items: ``(L,)`` item of each like.
        rng: Random generator.
        window: The positive is at most this many likes before or after the anchor in the
            user's time order (None: any of the user's likes).

    Returns:
        ``(P,)`` anchors and ``(P,)`` positives (never the anchor itself unless the user liked
        that item twice), shuffled.
    """
    order = np.argsort(users, kind="stable")
    u, it = users[order], items[order]
    _, starts, counts = np.unique(u, return_index=True, return_counts=True)
    keep = np.repeat(counts, counts) >= 2  # (L,) likes of users with >= 2 likes
    start = np.repeat(starts, counts)[keep]
    count = np.repeat(counts, counts)[keep]
    pos_in_user = (np.arange(len(u)) - np.repeat(starts, counts))[keep]
    if window is None:
        # another like of the same user: an offset in 1..count-1, wrapped around the block
        offset = rng.integers(1, np.maximum(count, 2))
        other = start + (pos_in_user + offset) % count
    else:
        if window < 1:
            raise ValueError(f"pair window must be >= 1 like, or None for any; got {window}")
        d = rng.integers(1, np.minimum(count - 1, window) + 1)  # distance 1..min(w, count-1)
        sign = rng.choice(np.array([-1, 1]), size=len(d))
        j = pos_in_user + sign * d
        j = np.where((j < 0) | (j >= count), pos_in_user - sign * d, j)  # the other side
        j = np.where((j < 0) | (j >= count), (pos_in_user + d) % count, j)  # neither fits
        other = start + j
    anchors, positives = it[keep], it[other]
    perm = rng.permutation(len(anchors))
    return anchors[perm], positives[perm]
