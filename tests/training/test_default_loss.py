"""Which loss a run gets when none is named: the image recipe for image sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from siamkit.data.labelled import LabelledData
from siamkit.run.config import (
    DEFAULT_IMAGE_LOSS,
    DEFAULT_IMAGE_ROTATION,
    DEFAULT_IMAGE_UNIFORMITY,
    SMALL_DATA_ITEMS,
    TrainConfig,
    default_loss,
)
from siamkit.training import load_run, train
from siamkit.training.refit import refit_config
from siamkit.training.setup import resolve_rotation, resolve_uniformity

from conftest import tiny_config


@pytest.mark.parametrize(
    "data",
    ["digits", "fashion-mnist", "image-folder:x", "omniglot:g", "cedar:s", "cedar-hands:s"],
)
def test_image_sources_get_the_image_recipe(data: str) -> None:
    assert default_loss(data) == DEFAULT_IMAGE_LOSS == "multi_similarity"
    cfg = TrainConfig(data=data)
    assert (cfg.loss, cfg.uniformity) == ("multi_similarity", None)  # auto: by the data's size
    # the recipe's regulariser comes with the default only; a named loss or weight is kept
    assert TrainConfig(data=data, loss="multi_similarity").uniformity == 0.0
    assert TrainConfig(data=data, uniformity=0.0).uniformity == 0.0


def test_other_cases_keep_contrastive_or_nt_xent() -> None:
    assert default_loss("csv:t.csv") == "contrastive"
    assert default_loss("text-pairs:p.jsonl") == "contrastive"
    assert default_loss("digits", sampling="pairs") == "contrastive"
    assert default_loss("digits", self_supervised=True) == "nt_xent"
    assert TrainConfig(data="omniglot:g", loss="koch").loss == "koch"
    assert TrainConfig(data="csv:t.csv").uniformity == 0.0
    assert TrainConfig(data="digits", self_supervised=True).uniformity == 0.0


def test_rotation_is_auto_only_in_the_image_recipe() -> None:
    assert TrainConfig(data="digits").rotation is None  # resolved by the trainer
    assert TrainConfig(data="digits", rotation=0.0).rotation == 0.0
    assert TrainConfig(data="digits", loss="multi_similarity").rotation == 0.0
    assert TrainConfig(data="csv:t.csv").rotation == 0.0
    assert TrainConfig(data="digits", sampling="pairs").rotation == 0.0
    assert TrainConfig(data="digits", self_supervised=True).rotation == 0.0


def _data(shape: tuple[int, ...], kind: str = "image") -> LabelledData:
    return LabelledData(torch.zeros(shape), torch.zeros(shape[0], dtype=torch.long), ["a"], kind)  # type: ignore[arg-type]


def test_auto_rotation_resolves_by_images_and_run_age() -> None:
    cfg = TrainConfig(data="digits")
    square, wide = _data((2, 1, 8, 8)), _data((2, 1, 8, 12))
    assert resolve_rotation(cfg, square, None).rotation == DEFAULT_IMAGE_ROTATION == 1.0
    assert resolve_rotation(cfg, wide, None).rotation == 0.0  # cannot be turned
    assert resolve_rotation(cfg, _data((2, 5), "vector"), None).rotation == 0.0
    old_run = {"loss": "multi_similarity"}  # saved before the option existed
    assert resolve_rotation(cfg, square, old_run).rotation == 0.0
    assert resolve_rotation(cfg, square, {"rotation": 1.0}).rotation == 1.0
    named = TrainConfig(data="digits", rotation=0.5)
    assert resolve_rotation(named, wide, None).rotation == 0.5  # a given weight is kept


def test_default_run_saves_the_rotation_it_used(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "d", epochs=1)
    assert cfg.loss == DEFAULT_IMAGE_LOSS and cfg.rotation is None
    train(cfg, progress=False)
    assert load_run(tmp_path / "d", "last").config.rotation == 1.0
    loss = load_file(str(tmp_path / "d" / "last" / "loss.safetensors"))
    assert "rotation.head.0.weight" in loss
    result = train(cfg.model_copy(update={"epochs": 2}), resume=True, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2]


def test_a_run_from_before_rotation_resumes_without_it(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "old", epochs=1, rotation=0.0, refit=False)
    train(cfg, progress=False)
    # make it look like a run saved before the setting existed
    state_path = tmp_path / "old" / "last" / "trainer_state.pt"
    state = torch.load(state_path, weights_only=True)
    del state["config"]["rotation"]
    torch.save(state, state_path)
    saved = json.loads((tmp_path / "old" / "config.json").read_text())
    del saved["train"]["rotation"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(saved))
    auto = tiny_config(tmp_path / "old", epochs=2, refit=False)  # names no loss: rotation auto
    assert auto.rotation is None
    result = train(auto, resume=True, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert load_run(tmp_path / "old", "last").config.rotation == 0.0


def _per_class(counts: list[int]) -> LabelledData:
    y = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(counts)])
    return LabelledData(
        torch.zeros(len(y), 1, 4, 4), y, [str(c) for c in range(len(counts))], "image"
    )


def test_auto_uniformity_resolves_by_items_per_class() -> None:
    cfg = TrainConfig(data="fashion-mnist")
    at, below = SMALL_DATA_ITEMS, SMALL_DATA_ITEMS - 1
    # the median class decides: one small class among large ones does not
    assert resolve_uniformity(cfg, _per_class([at, at, 3]), None).uniformity == 0.3
    assert DEFAULT_IMAGE_UNIFORMITY == 0.3
    assert resolve_uniformity(cfg, _per_class([below, below, 9999]), None).uniformity == 0.0
    # a resumed run keeps the number it trained with; one saved before the option had none
    assert resolve_uniformity(cfg, _per_class([3, 3]), {"uniformity": 0.3}).uniformity == 0.3
    assert resolve_uniformity(cfg, _per_class([at, at]), {"loss": "x"}).uniformity == 0.0
    lite0 = TrainConfig(data="digits", encoder="efficientnet_lite0")  # its recipe: any size
    assert resolve_uniformity(lite0, _per_class([3, 3]), None).uniformity == 0.3
    given = TrainConfig(data="digits", uniformity=0.7)  # a given weight is kept
    assert resolve_uniformity(given, _per_class([3, 3]), None).uniformity == 0.7


def test_the_refit_trains_the_recipe_the_selection_resolved() -> None:
    auto = TrainConfig(data="fashion-mnist")
    chosen = {"uniformity": 0.3, "rotation": 1.0}
    final = refit_config(auto, 4, chosen)
    assert (final.uniformity, final.rotation, final.epochs) == (0.3, 1.0, 4)
    # what the user gave is never replaced
    given = TrainConfig(data="fashion-mnist", uniformity=0.0, rotation=0.0)
    assert (refit_config(given, 4, chosen).uniformity, refit_config(given, 4, chosen).rotation) == (
        0.0,
        0.0,
    )


def test_a_small_default_run_trains_without_uniformity(tmp_path: Path) -> None:
    # digits 0-4: about 125 training images per class, under SMALL_DATA_ITEMS; both the
    # selection and the refit save the number they used
    cfg = tiny_config(tmp_path / "s", epochs=1)
    assert cfg.uniformity is None
    train(cfg, progress=False)
    assert load_run(tmp_path / "s" / "selection", "last").config.uniformity == 0.0
    assert load_run(tmp_path / "s", "last").config.uniformity == 0.0
