"""--max-grad-norm: one SGD step with clipping equals the same step with the gradients scaled
by hand to the given global norm."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from siamkit.losses import get_loss
from siamkit.models.spec import build_model
from siamkit.training import train
from siamkit.training.batches import epoch_batches
from siamkit.training.setup import fit_standardize, model_spec, prepare_data

from conftest import tiny_config


@pytest.mark.parametrize("max_norm", [1e-3, 1e6])  # clipped, and too large to clip
def test_one_step_with_clipped_gradients(tmp_path: Path, max_norm: float) -> None:
    cfg = tiny_config(
        tmp_path / "c",
        epochs=1,
        train_classes="0-1",
        batch_size=512,  # one batch, one optimiser step
        loss="contrastive",
        optimizer="sgd",
        momentum=0.0,
        lr=0.5,
        max_grad_norm=max_norm,
        val_classes="none",
        val_fraction=0.0,
        channels_last=False,
        input_mean=[0.3],
        input_std=[0.4],
    )
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "c" / "last" / "model.safetensors"))

    prepared = prepare_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(model_spec(cfg, prepared.train))
    fit_standardize(model, prepared.train, cfg.input_mean, cfg.input_std)
    data = prepared.train
    data.y = torch.unique(data.y, return_inverse=True)[1]
    (x, labels, _), *rest = epoch_batches(cfg, data, 0)
    assert not rest
    model.train()
    get_loss("contrastive")(model.embed(x), labels).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    scale = min(1.0, max_norm / (norm + 1e-6))
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.5 * scale * p.grad
    want = model.state_dict()
    for k in got:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def test_max_grad_norm_is_checked() -> None:
    with pytest.raises(ValueError, match="max_grad_norm"):
        tiny_config(Path("unused"), max_grad_norm=0.0)
