"""Leave-last-out, the validation split, held-out items: against plain loops."""

from __future__ import annotations

import numpy as np

from siamkit.apps.recommend import Ratings, cold_start_cases, hold_out_items, leave_last_out


def _random_ratings(seed: int = 0, n: int = 400) -> Ratings:
    rng = np.random.default_rng(seed)
    return Ratings(
        user=rng.integers(1, 30, n).astype(np.int64),
        item=rng.integers(0, 50, n).astype(np.int64),
        rating=rng.choice([1.0, 2.5, 4.0, 5.0], n).astype(np.float32),
        timestamp=rng.integers(0, 40, n).astype(np.int64),  # many ties: broken by item index
    )


def _reference(r: Ratings, rows: np.ndarray, thr: float = 4.0) -> dict[int, tuple]:
    """user -> (target, history, seen) by a plain loop."""
    out = {}
    for u in sorted(set(r.user[rows].tolist())):
        mine = [k for k in range(len(r)) if rows[k] and r.user[k] == u]
        liked = sorted((r.timestamp[k], r.item[k], k) for k in mine if r.rating[k] >= thr)
        if len(liked) < 2:
            continue
        target = liked[-1][1]
        history = [it for _, it, _ in liked[:-1] if it != target]
        seen = sorted({int(r.item[k]) for k in mine if r.item[k] != target})
        out[u] = (int(target), history, seen)
    return out


def test_leave_last_out_matches_a_loop() -> None:
    r = _random_ratings()
    rows = np.ones(len(r), dtype=bool)
    split = leave_last_out(r, rows)
    ref = _reference(r, rows)
    assert [c.user for c in split.cases] == sorted(ref)
    for c in split.cases:
        target, history, seen = ref[c.user]
        assert c.target == target and c.history.tolist() == history and c.seen.tolist() == seen
        # every rating of the target leaves training; the user's other ratings stay
        mine = r.user == c.user
        assert not (split.train & mine & (r.item == c.target)).any()
        assert (split.train[mine & (r.item != c.target)]).all()
    untouched = ~np.isin(r.user, [c.user for c in split.cases])
    assert split.train[untouched].all()


def test_validation_is_carved_from_the_training_side() -> None:
    r = _random_ratings(1)
    test = leave_last_out(r)
    val = leave_last_out(r, test.train)
    ref = _reference(r, test.train)
    targets = {c.user: c.target for c in test.cases}
    for c in val.cases:
        assert c.target == ref[c.user][0]
        assert c.target != targets.get(c.user)  # never the test item
        assert targets.get(c.user) not in c.history.tolist()
        assert targets.get(c.user) not in c.seen.tolist()
    assert not (val.train & ~test.train).any()


def test_hold_out_items_and_cold_cases() -> None:
    r = _random_ratings(2, 2000)
    likes = np.bincount(r.item[r.rating >= 4], minlength=50)
    cold = hold_out_items(r, 50, fraction=0.2, min_likes=5, seed=3)
    assert len(cold) == round(0.2 * (likes >= 5).sum()) and (likes[cold] >= 5).all()
    assert cold.tolist() == sorted(set(cold.tolist()))
    assert hold_out_items(r, 50, 0.2, 5, seed=3).tolist() == cold.tolist()  # seeded
    train = ~np.isin(r.item, cold)
    cases = cold_start_cases(r, train, cold)
    for c in cases:
        mine = [k for k in range(len(r)) if r.user[k] == c.user]
        cold_liked = sorted(
            (r.timestamp[k], r.item[k]) for k in mine if r.item[k] in cold and r.rating[k] >= 4
        )
        assert c.target == cold_liked[-1][1]
        assert not np.isin(c.history, cold).any() and len(c.history)
        assert set(c.seen.tolist()) == {int(r.item[k]) for k in mine if r.item[k] in cold} - {
            c.target
        }


def test_recent_keeps_the_last_likes() -> None:
    from siamkit.apps.recommend import Case, recent

    c = Case(1, 9, np.array([4, 5, 6]), np.array([4, 5, 6, 7]))
    assert recent([c], 2)[0].history.tolist() == [5, 6]
    assert recent([c], 0)[0].history.tolist() == [4, 5, 6]
    assert recent([c], 5)[0].history.tolist() == [4, 5, 6]
    assert recent([c], 2)[0].seen.tolist() == [4, 5, 6, 7]  # still excluded from the ranking
