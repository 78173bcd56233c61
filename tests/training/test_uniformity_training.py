"""--uniformity λ trains on L + λ·U: one SGD step checked against the same step by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from siamkit.losses import get_loss
from siamkit.losses.uniformity import UniformityLoss
from siamkit.training import train

from conftest import ONE_STEP, assert_same_weights, one_step_start, sgd_step, tiny_config


def test_one_step_is_loss_plus_weighted_uniformity(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "u", **ONE_STEP, loss="multi_similarity", uniformity=0.7)
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "u" / "last" / "model.safetensors"))

    model, x, labels = one_step_start(cfg)
    emb = model.embed(x)
    loss = get_loss("multi_similarity")(emb, labels) + 0.7 * UniformityLoss()(emb)
    loss.backward()
    sgd_step([model], 0.5)
    assert_same_weights(got, model.state_dict(), atol=1e-5)


def test_uniformity_weight_is_checked() -> None:
    with pytest.raises(ValueError, match="uniformity"):
        tiny_config(Path("unused"), uniformity=-1.0)
