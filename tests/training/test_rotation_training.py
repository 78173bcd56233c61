"""--rotation w: the trainer adds w·CE of a head predicting each image's quarter turns; one SGD
step checked against the same step by hand, and the guards on what it cannot run on."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from siamkit.data.augment import quarter_turns
from siamkit.data.labelled import LabelledData
from siamkit.losses import RotationLoss, WithRotation, get_loss
from siamkit.models.spec import build_model
from siamkit.training import load_run, train
from siamkit.training.objective import build_loss
from siamkit.training.setup import check_rotation, model_spec, prepare_data

from conftest import (
    ONE_STEP,
    assert_same_weights,
    first_turns,
    one_step_start,
    sgd_step,
    tiny_config,
)


def test_quarter_turns_match_rot90_per_image() -> None:
    x = torch.randn(6, 2, 5, 5)
    k = torch.tensor([0, 1, 2, 3, 1, 0])
    got = quarter_turns(x, k)
    for i in range(6):
        assert torch.equal(got[i], torch.rot90(x[i], int(k[i]), dims=(1, 2)))
    with pytest.raises(ValueError, match="square"):
        quarter_turns(torch.zeros(1, 1, 4, 5), torch.tensor([1]))


def test_rotation_loss_is_cross_entropy_of_the_head() -> None:
    torch.manual_seed(0)
    loss = RotationLoss(embedding_dim=6, hidden=5)
    emb, k = torch.randn(8, 6), torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    w1, b1, w2, b2 = (loss.head[0].weight, loss.head[0].bias, loss.head[2].weight,
                      loss.head[2].bias)  # fmt: skip
    logits = torch.relu(emb @ w1.T + b1) @ w2.T + b2
    p = torch.softmax(logits, dim=1)
    want = -torch.log(p[torch.arange(8), k]).mean()
    assert torch.allclose(loss(emb, k), want, atol=1e-6)


def test_one_step_adds_the_weighted_rotation_term(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "r", **ONE_STEP, loss="multi_similarity")
    torch.manual_seed(3)
    loss = WithRotation(get_loss("multi_similarity"), RotationLoss(16, hidden=12), weight=0.7)
    start = copy.deepcopy(loss)
    train(cfg, progress=False, loss=loss)
    got_model = load_file(str(tmp_path / "r" / "last" / "model.safetensors"))
    got_loss = load_file(str(tmp_path / "r" / "last" / "loss.safetensors"))

    model, x, labels = one_step_start(cfg)
    turns, turned = first_turns(cfg, x)
    value = start.loss(model.embed(x), labels)
    logits = start.rotation.head(model.embed(turned))
    (value + 0.7 * F.cross_entropy(logits, turns)).backward()
    sgd_step([model, start], 0.5)
    assert_same_weights(got_model, model.state_dict(), atol=1e-5)
    assert_same_weights(got_loss, start.state_dict(), atol=1e-5)


def test_config_runs_and_resumes_with_the_head(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "c", rotation=0.5, epochs=1)
    model = build_model(model_spec(cfg, prepare_data(cfg).train))
    built = build_loss(cfg, model, 5)
    assert isinstance(built, WithRotation) and built.weight == 0.5
    train(cfg, progress=False)
    head = load_file(str(tmp_path / "c" / "last" / "loss.safetensors"))
    assert "rotation.head.0.weight" in head
    result = train(cfg.model_copy(update={"epochs": 2}), resume=True, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert load_run(tmp_path / "c", "last").config.rotation == 0.5


def test_rotation_refuses_what_it_cannot_turn(tmp_path: Path) -> None:
    images = LabelledData(torch.zeros(4, 1, 6, 8), torch.tensor([0, 0, 1, 1]), ["a", "b"], "image")
    with pytest.raises(ValueError, match="square"):
        check_rotation(images)
    square = LabelledData(torch.zeros(4, 1, 6, 6), torch.tensor([0, 0, 1, 1]), ["a", "b"], "image")
    check_rotation(square)  # under torchrun too: each process turns its own share
    vectors = LabelledData(torch.zeros(4, 3), torch.tensor([0, 0, 1, 1]), ["a", "b"], "vector")
    with pytest.raises(ValueError, match="vector"):
        check_rotation(vectors)
    cfg = tiny_config(tmp_path / "p", rotation=1.0, sampling="pairs", loss="contrastive")
    with pytest.raises(ValueError, match="--sampling balanced"):
        build_loss(cfg, build_model(model_spec(cfg, prepare_data(cfg).train)), 5)
