"""--ema d: the saved model is the moving average of the weights (and BatchNorm statistics)
after each optimiser step, checked against two SGD steps by hand; resuming keeps the average."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from siamkit.losses import get_loss
from siamkit.run.checkpoint import load_trainer_state
from siamkit.training import train

from conftest import ONE_STEP, assert_same_weights, sgd_step, start_with_batches, tiny_config

TWO_STEPS = {**ONE_STEP, "sampling": "random", "batch_size": 200, "loss": "multi_similarity"}


def test_saved_model_is_the_average_of_the_steps(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "e", **TWO_STEPS, ema=0.25)
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "e" / "last" / "model.safetensors"))
    raw = load_trainer_state(tmp_path / "e")["raw_model"]

    model, batches = start_with_batches(cfg)
    assert len(batches) == 2
    loss = get_loss("multi_similarity")
    average: dict[str, torch.Tensor] = {}
    for x, labels, _, _ in batches:  # by hand: SGD, then average = 0.25·average + 0.75·new
        assert labels is not None
        loss(model.embed(x), labels).backward()
        sgd_step([model], 0.5)
        model.zero_grad()
        now = {k: v.detach().clone() for k, v in model.state_dict().items()}
        average = {k: v if not average else 0.25 * average[k] + 0.75 * v for k, v in now.items()}
    # BatchNorm's integer step counter is averaged by torch too (and read by nothing here)
    floats = {k for k, v in got.items() if v.is_floating_point()}
    assert set(got) == set(average)
    assert_same_weights({k: got[k] for k in floats}, {k: average[k] for k in floats}, atol=1e-5)
    assert_same_weights(raw, model.state_dict(), atol=1e-5)
    assert any(not torch.allclose(got[k], raw[k], atol=1e-4) for k in got)  # they differ


def test_resume_carries_the_average_on(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "straight", **TWO_STEPS, ema=0.5)
    train(cfg.model_copy(update={"epochs": 2}), progress=False)
    part = cfg.model_copy(update={"out": str(tmp_path / "part")})
    train(part, progress=False)
    train(part.model_copy(update={"epochs": 2}), resume=True, progress=False)
    a = load_file(str(tmp_path / "straight" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "part" / "last" / "model.safetensors"))
    assert_same_weights(a, b, atol=1e-6)  # the averages
    a_raw = load_trainer_state(tmp_path / "straight")["raw_model"]
    b_raw = load_trainer_state(tmp_path / "part")["raw_model"]
    assert_same_weights(a_raw, b_raw, atol=1e-6)
