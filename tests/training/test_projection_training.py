"""--projection H: the loss sees g(embedding) through a head trained beside the model and
stored with the loss's weights; the model (and what it embeds) stays the plain encoder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from siamkit.losses import ProjectedLoss, RotationLoss, get_loss
from siamkit.models.spec import build_model
from siamkit.training import load_run, train
from siamkit.training.objective import build_loss
from siamkit.training.setup import model_spec, prepare_data

from conftest import ONE_STEP, assert_same_weights, one_step_start, sgd_step, tiny_config


def test_head_output_is_what_the_loss_sees() -> None:
    torch.manual_seed(0)
    base = get_loss("multi_similarity")
    loss = ProjectedLoss(base, embedding_dim=6, hidden=10)
    emb = F.normalize(torch.randn(8, 6), dim=1)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    w1, b1 = loss.head[0].weight, loss.head[0].bias
    w2, b2 = loss.head[2].weight, loss.head[2].bias
    z = torch.relu(emb @ w1.T + b1) @ w2.T + b2  # the head written out
    z = z / z.norm(dim=1, keepdim=True)
    assert torch.allclose(loss(emb, labels), base(z, labels), atol=1e-6)
    loss(emb, labels).backward()
    assert w1.grad is not None and w1.grad.abs().sum() > 0  # the head learns


def test_one_step_trains_model_and_head_together(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "p", **ONE_STEP, loss="multi_similarity")
    torch.manual_seed(1)
    loss = ProjectedLoss(get_loss("multi_similarity"), embedding_dim=16, hidden=24)
    start = copy.deepcopy(loss)
    train(cfg, progress=False, loss=loss)
    got_model = load_file(str(tmp_path / "p" / "last" / "model.safetensors"))
    got_loss = load_file(str(tmp_path / "p" / "last" / "loss.safetensors"))

    model, x, labels = one_step_start(cfg)
    start(model.embed(x), labels).backward()
    sgd_step([model, start], 0.5)
    assert_same_weights(got_model, model.state_dict(), atol=1e-5)
    assert_same_weights(got_loss, start.state_dict(), atol=1e-5)


def test_config_builds_the_head_and_the_run_embeds_without_it(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "r", projection=32, epochs=1)
    prepared = prepare_data(cfg)
    model = build_model(model_spec(cfg, prepared.train))
    built = build_loss(cfg, model, 5)
    assert isinstance(built, ProjectedLoss)
    assert built.head[0].in_features == 16 and built.head[0].out_features == 32
    train(cfg, progress=False)
    run = load_run(tmp_path / "r", "last")
    assert run.config.projection == 32
    assert run.model.embed(prepared.train.x[:5]).shape == (5, 16)  # the encoder's own D


def test_projection_needs_labelled_batches(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "x", projection=8, sampling="pairs", loss="contrastive")
    model = build_model(model_spec(cfg, prepare_data(cfg).train))
    with pytest.raises(ValueError, match="--sampling balanced"):
        build_loss(cfg, model, 5)


def test_projection_width_is_checked() -> None:
    with pytest.raises(ValueError, match="projection"):
        tiny_config(Path("unused"), projection=-1)


def test_head_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="projection head"):
        ProjectedLoss(get_loss("multi_similarity"), embedding_dim=4, hidden=0)
    with pytest.raises(ValueError, match="rotation head"):
        RotationLoss(embedding_dim=0)
