"""Which loss a run gets when none is named: the image recipe for image sources."""

from __future__ import annotations

import pytest

from siamkit.training.config import DEFAULT_IMAGE_LOSS, TrainConfig, default_loss


@pytest.mark.parametrize(
    "data",
    ["digits", "fashion-mnist", "image-folder:x", "omniglot:g", "cedar:s", "cedar-hands:s"],
)
def test_image_sources_get_the_image_recipe(data: str) -> None:
    assert default_loss(data) == DEFAULT_IMAGE_LOSS == "multi_similarity"
    cfg = TrainConfig(data=data)
    assert (cfg.loss, cfg.uniformity) == ("multi_similarity", 0.3)
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
