"""Co-interaction pairs, the item tower, cold-start embedding from features, the title cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from siamkit.apps.recommend import (
    FeatureSpec,
    FitConfig,
    ItemEmbedder,
    ItemTable,
    ItemTower,
    TowerShape,
    fit_tower,
    item_features,
    like_pairs,
    title_vectors,
)


def test_like_pairs_same_user_within_the_window() -> None:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(6), [1, 2, 5, 9, 3, 12])  # time order within each user
    items = np.arange(len(users)) * 10
    position = {int(it): (int(u), k) for u, (k, it) in zip(users, enumerate(items))}
    for window in (None, 1, 3):
        a, p = like_pairs(users, items, rng, window)
        assert len(a) == len(users) - 1  # user 0's single like makes no pair
        for x, y in zip(a.tolist(), p.tolist()):
            (ux, kx), (uy, ky) = position[x], position[y]
            assert ux == uy and x != y
            if window is not None:
                assert abs(kx - ky) <= window


def _items() -> ItemTable:
    return ItemTable(
        np.array([1, 2, 3, 4], dtype=np.int64),
        ["A (1990)", "B (2001)", "C", "D (1990)"],
        np.array([1990.0, 2001.0, np.nan, 1990.0]),
        [("Drama",), ("Comedy", "Drama"), (), ("Horror",)],
    )


def fake_embed(texts: list[str]) -> np.ndarray:
    """A stand-in text encoder: 3-d vectors from the characters."""
    return np.array([[len(t), ord(t[0]), t.count(" ")] for t in texts], dtype=np.float32)


def test_features_by_hand() -> None:
    items = _items()
    spec = FeatureSpec.fit(items, text_model="fake", text_dim=3)
    assert spec.genres == ("Comedy", "Drama", "Horror")
    x = item_features(items, spec, fake_embed(items.titles))
    assert x.shape == (4, spec.n_features) == (4, 3 + 2 + len(spec.decades) + 3)
    np.testing.assert_array_equal(x[1, :3], [1, 1, 0])
    np.testing.assert_array_equal(x[2, :3], [0, 0, 0])
    mean, std = np.mean([1990, 2001, 1990]), np.std([1990, 2001, 1990])
    np.testing.assert_allclose(x[1, 3], (2001 - mean) / std, rtol=1e-6)
    assert x[2, 3] == 0 and x[2, 4] == 1  # unknown year: flag set
    decades = x[:, 5 : 5 + len(spec.decades)]
    assert decades[0, spec.decades.index(1990)] == 1 and decades[1, spec.decades.index(2000)] == 1
    assert decades[2].sum() == 0
    np.testing.assert_array_equal(x[:, -3:], fake_embed(items.titles))


def test_title_cache_embeds_each_title_once(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return fake_embed(texts)

    a = title_vectors(["x y", "zz"], "fake", tmp_path, counting)
    b = title_vectors(["zz", "new one", "x y"], "fake", tmp_path, counting)
    assert calls == [["x y", "zz"], ["new one"]]
    np.testing.assert_array_equal(b, fake_embed(["zz", "new one", "x y"]))
    np.testing.assert_array_equal(a, fake_embed(["x y", "zz"]))


def test_cold_start_embeds_from_features_only() -> None:
    torch.manual_seed(0)
    items = _items()
    spec = FeatureSpec.fit(items, text_model="fake", text_dim=3)
    x = item_features(items, spec, fake_embed(items.titles))
    likes = (np.array([1, 1, 2, 2]), np.array([0, 1, 0, 1]))  # items 2, 3 never liked
    fit = fit_tower(x, likes, FitConfig(epochs=2, batch_size=4, random_negatives=2))
    assert fit.known.tolist() == [True, True, False, False]
    tower = fit.tower
    xt = torch.from_numpy(x)
    with torch.no_grad():
        features_only = tower(xt)
        zero_ids = tower(xt, torch.zeros(4, dtype=torch.long))
        with_ids = tower(xt, torch.tensor([1, 2, 0, 0]))
    torch.testing.assert_close(features_only, zero_ids)  # id 0 adds nothing
    torch.testing.assert_close(with_ids[2:], features_only[2:])  # cold items: features only
    assert not torch.allclose(with_ids[:2], features_only[:2])  # known items carry their id
    emb = ItemEmbedder(tower).embed(x)
    np.testing.assert_allclose(emb, features_only.numpy(), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # a new item with the same features as item 3 gets item 3's cold embedding
    new = ItemTable(np.array([99]), ["D (1990)"], np.array([1990.0]), [("Horror",)])
    x_new = item_features(new, spec, fake_embed(new.titles))
    np.testing.assert_allclose(ItemEmbedder(tower).embed(x_new)[0], emb[3], atol=1e-6)


def test_tower_shape_round_trip() -> None:
    shape = TowerShape(10, 5, 8, (16,), False)
    assert TowerShape.from_dict(shape.to_dict()) == shape
    assert ItemTower(shape).ids is None
