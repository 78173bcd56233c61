"""--uniformity λ trains on L + λ·U: one SGD step checked against the same step by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from siamkit.losses import get_loss
from siamkit.losses.uniformity import UniformityLoss
from siamkit.models.spec import build_model
from siamkit.training import train
from siamkit.training.batches import epoch_batches
from siamkit.training.setup import fit_standardize, model_spec, prepare_data

from conftest import tiny_config


def test_one_step_is_loss_plus_weighted_uniformity(tmp_path: Path) -> None:
    cfg = tiny_config(
        tmp_path / "u",
        epochs=1,
        train_classes="0-1",  # about 320 items
        batch_size=512,  # one batch, one optimiser step
        loss="multi_similarity",
        uniformity=0.7,
        optimizer="sgd",
        momentum=0.0,
        lr=0.5,
        val_classes="none",
        val_fraction=0.0,
        channels_last=False,
        input_mean=[0.3],
        input_std=[0.4],
    )
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "u" / "last" / "model.safetensors"))

    prepared = prepare_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(model_spec(cfg, prepared.train))
    fit_standardize(model, prepared.train, cfg.input_mean, cfg.input_std)
    data = prepared.train
    data.y = torch.unique(data.y, return_inverse=True)[1]
    batches = epoch_batches(cfg, data, 0)
    assert len(batches) == 1
    x, labels, _ = batches[0]
    model.train()
    emb = model.embed(x)
    loss = get_loss("multi_similarity")(emb, labels) + 0.7 * UniformityLoss()(emb)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.5 * p.grad
    want = model.state_dict()
    assert set(got) == set(want)
    for k in got:
        assert torch.allclose(got[k], want[k], atol=1e-5), k


def test_uniformity_weight_is_checked() -> None:
    with pytest.raises(ValueError, match="uniformity"):
        tiny_config(Path("unused"), uniformity=-1.0)
