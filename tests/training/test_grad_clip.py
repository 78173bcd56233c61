"""--max-grad-norm: one SGD step with clipping equals the same step with the gradients scaled
by hand to the given global norm."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from siamkit.losses import get_loss
from siamkit.training import train

from conftest import ONE_STEP, assert_same_weights, one_step_start, sgd_step, tiny_config


@pytest.mark.parametrize("max_norm", [1e-3, 1e6])  # clipped, and too large to clip
def test_one_step_with_clipped_gradients(tmp_path: Path, max_norm: float) -> None:
    cfg = tiny_config(tmp_path / "c", **ONE_STEP, loss="contrastive", max_grad_norm=max_norm)
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "c" / "last" / "model.safetensors"))

    model, x, labels = one_step_start(cfg)
    get_loss("contrastive")(model.embed(x), labels).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    scale = min(1.0, max_norm / (norm + 1e-6))
    sgd_step([model], 0.5 * scale)
    assert_same_weights(got, model.state_dict(), atol=1e-6)


def test_max_grad_norm_is_checked() -> None:
    with pytest.raises(ValueError, match="max_grad_norm"):
        tiny_config(Path("unused"), max_grad_norm=0.0)
