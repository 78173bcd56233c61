"""--rotation-classes: the rotation task's turned images also enter the metric loss, each
(class, turn) a class of its own. One SGD step checked against the same step by hand, the
labels against a plain loop, and the settings it refuses or resolves."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from siamkit.data.identical import identical_inputs
from siamkit.data.labelled import LabelledData
from siamkit.losses import MultiSimilarityLoss, RotationLoss, WithRotation
from siamkit.losses.uniformity import UniformityLoss
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.setup import resolve_rotation
from siamkit.training.step import Turned, with_rotation_classes

from conftest import (
    ONE_STEP,
    TINY_TRAIN_FLAGS,
    assert_same_weights,
    first_turns,
    one_step_start,
    sgd_step,
    tiny_config,
)


def test_labels_rows_and_inputs_match_a_plain_loop() -> None:
    raw = torch.randn(3, 1, 4, 4)
    turns = torch.tensor([2, 0, 3])
    images = torch.stack([torch.rot90(raw[i], int(turns[i]), dims=(1, 2)) for i in range(3)])
    turned = Turned(turns, images, torch.randn(3, 5))
    emb = torch.randn(6, 5)  # two views of each raw item
    rows = torch.tensor([0, 1, 2, 0, 1, 2])
    labels = torch.tensor([4, 1, 0, 4, 1, 0])
    got_emb, got_y, inputs, got_rows = with_rotation_classes(emb, labels, rows, raw, turned)
    want_y = [4 * int(c) for c in labels] + [4 * int(labels[i]) + int(turns[i]) for i in range(3)]
    assert got_y.tolist() == want_y
    assert torch.equal(got_emb, torch.cat([emb, turned.embeddings]))
    assert got_rows.tolist() == [0, 1, 2, 0, 1, 2, 3, 4, 5]
    for r, i in enumerate(got_rows.tolist()):  # each row's input is what it embedded
        want = raw[rows[r]] if r < 6 else images[r - 6]
        assert torch.equal(inputs[i], want)


def test_one_step_uses_the_turned_images_as_classes(tmp_path: Path) -> None:
    cfg = tiny_config(
        tmp_path / "r", **ONE_STEP, loss="multi_similarity", rotation=0.7,
        rotation_classes=True, uniformity=0.3,
    )  # fmt: skip
    torch.manual_seed(3)
    loss = WithRotation(MultiSimilarityLoss(), RotationLoss(16, hidden=12), weight=0.7)
    start = copy.deepcopy(loss)
    train(cfg, progress=False, loss=loss)
    got_model = load_file(str(tmp_path / "r" / "last" / "model.safetensors"))
    got_loss = load_file(str(tmp_path / "r" / "last" / "loss.safetensors"))

    model, x, labels = one_step_start(cfg)
    turns, turned = first_turns(cfg, x)
    emb, emb_t = model.embed(x), model.embed(turned)
    both = torch.cat([x, turned])
    value = start.loss(
        torch.cat([emb, emb_t]),
        torch.cat([labels * 4, labels * 4 + turns]),
        identical_inputs(both),
    )
    value = value + 0.3 * UniformityLoss()(emb)  # the turned images do not count here
    value = value + 0.7 * F.cross_entropy(start.rotation.head(emb_t), turns)
    value.backward()
    sgd_step([model, start], 0.5)
    assert_same_weights(got_model, model.state_dict(), atol=1e-5)
    assert_same_weights(got_loss, start.state_dict(), atol=1e-5)


def _data(shape: tuple[int, ...], kind: str = "image") -> LabelledData:
    return LabelledData(torch.zeros(2, *shape), torch.tensor([0, 1]), ["a", "b"], kind)


def test_off_unless_asked_and_kept_with_auto_rotation() -> None:
    assert TrainConfig(data="digits").rotation_classes is False  # not in the default recipe
    asked = TrainConfig(data="digits", rotation_classes=True)  # rotation auto (None)
    assert resolve_rotation(asked, _data((1, 6, 6)), None).rotation_classes is True
    with pytest.raises(ValueError, match="--image-size"):  # auto turns the task off here
        resolve_rotation(asked, _data((1, 6, 8)), None)


def test_refused_without_the_rotation_task_or_classes() -> None:
    with pytest.raises(ValueError, match="--rotation W"):
        TrainConfig.from_sources(overrides={"rotation": 0.0, "rotation_classes": True})
    with pytest.raises(ValueError, match="self-supervised"):
        TrainConfig.from_sources(
            overrides={"self_supervised": True, "rotation": 1.0, "rotation_classes": True}
        )


def test_a_run_saves_it_and_resumes_with_it(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "d", epochs=1, rotation_classes=True)  # the image recipe + it
    train(cfg, progress=False)
    assert load_run(tmp_path / "d", "last").config.rotation_classes is True
    result = train(cfg.model_copy(update={"epochs": 2}), resume=True, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2]
    with pytest.raises(ValueError, match="rotation_classes: saved True, now False"):
        train(cfg.model_copy(update={"epochs": 3, "rotation_classes": False}), resume=True)


def test_cli_flag_is_saved_and_a_bad_combination_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from siamkit.cli.main import app

    tiny = ["train", *TINY_TRAIN_FLAGS]
    r = CliRunner().invoke(app, [*tiny, "--rotation-classes", "--out", str(tmp_path / "ok")])
    assert r.exit_code == 0, r.output
    assert load_run(tmp_path / "ok", "last").config.rotation_classes is True
    bad = [*tiny, "--rotation", "0", "--rotation-classes", "--out", str(tmp_path / "no")]
    r = CliRunner().invoke(app, bad)
    assert r.exit_code != 0 and "--rotation W" in " ".join(r.output.split())
    assert not (tmp_path / "no").exists()
