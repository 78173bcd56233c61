"""Per-class reweighting of random batches: every class drawn equally often, whatever its size."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from siamkit.data.labelled import LabelledData
from siamkit.training import TrainConfig, train
from siamkit.training.batches import epoch_batches, reweighted_order

from conftest import tiny_config


def _imbalanced() -> LabelledData:
    y = torch.cat([torch.zeros(900, dtype=torch.long), torch.ones(100, dtype=torch.long)])
    x = torch.arange(1000, dtype=torch.float32).reshape(1000, 1)  # item i holds the value i
    return LabelledData(x, y, ["big", "small"], "vector")


def test_inverse_frequency_draws_each_class_half_the_time() -> None:
    y = _imbalanced().y
    draws = torch.cat([reweighted_order(y, torch.Generator().manual_seed(s)) for s in range(20)])
    assert len(draws) == 20 * 1000
    # P(item i) = (1/n_c) / sum_j (1/n_cj) = (1/n_c) / 2: each class has probability 1/2.
    # 20,000 draws: standard deviation of the share sqrt(.25/20000) = 0.0035.
    share_small = float((y[draws] == 1).double().mean())
    assert share_small == pytest.approx(0.5, abs=0.02)
    # inside a class every item is equally likely: small-class items ~100 draws each, big ~11
    counts = torch.bincount(draws, minlength=1000).double()
    assert counts[900:].mean().item() == pytest.approx(100, rel=0.05)
    assert counts[:900].mean().item() == pytest.approx(10000 / 900, rel=0.05)
    assert counts[900:].min() > 50 and counts[900:].max() < 160  # Poisson(100) bounds, 5 sigma


def test_epoch_batches_with_and_without_weighting() -> None:
    data = _imbalanced()
    plain = TrainConfig(data="csv:x", sampling="random", batch_size=100)
    weighted = TrainConfig(
        data="csv:x", sampling="random", batch_size=100, class_weighting="inverse_frequency"
    )
    labels = torch.cat([b[1] for b in epoch_batches(plain, data, 0) if b[1] is not None])
    assert int((labels == 1).sum()) == 100  # a permutation: the natural share, exactly
    batches = epoch_batches(weighted, data, 0)
    labels = torch.cat([b[1] for b in batches if b[1] is not None])
    assert len(labels) == 1000
    assert float((labels == 1).double().mean()) == pytest.approx(0.5, abs=0.06)  # 4.5 sigma
    for x, y, _, _ in batches:  # items keep their labels
        assert y is not None
        assert torch.equal((x[:, 0] >= 900).long(), y)


def test_weighting_needs_random_batches() -> None:
    with pytest.raises(ValueError, match="use --sampling random"):
        TrainConfig(class_weighting="inverse_frequency")


def test_a_reweighted_run_trains(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, epochs=1, sampling="random", class_weighting="inverse_frequency")
    result = train(cfg, progress=False)
    assert torch.isfinite(torch.tensor(result.history[0]["train_loss"]))
    assert 0.5 < result.best["roc_auc"] <= 1.0  # validation pairs still separate
