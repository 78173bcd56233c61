"""The final model embeds with the selection model beside the refit one (``--keep-selection``):
the joined embedding is the two models' by hand, the operating point is fitted on it, and the
runs it does not apply to keep one model."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from siamkit.models.embed import embed_all
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.files import read_json
from siamkit.training import load_run, train
from siamkit.training.keep_selection import keeps_selection
from siamkit.training.refit import MEMBERS
from siamkit.training.setup import prepare_data

from conftest import assert_onnx_embeds_as_run, tiny_config


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits refit run with the selection model kept."""
    out = tmp_path_factory.mktemp("runs") / "joined"
    train(tiny_config(out, keep_selection=True), progress=False)
    return out


def test_the_final_embedding_is_the_refit_and_selection_models_side_by_side(joined: Path) -> None:
    best, last = load_run(joined, "best"), load_run(joined, "last")
    selection = load_run(joined / "selection", "best")
    assert best.spec.members == 2 and best.spec.embedding_dim == 2 * 16
    assert last.spec.members == 1  # RUN/last stays the refit model's last epoch
    x = prepare_data(best.config).train.x[:20]
    got = embed_all(best.model, x)
    half = 1 / math.sqrt(2)
    expected = torch.cat(
        [F.normalize(embed_all(last.model, x), dim=1) * half,
         F.normalize(embed_all(selection.model, x), dim=1) * half], dim=1,
    )  # fmt: skip
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    # the records name it; the run-level config agrees with the checkpoint
    assert read_json(joined / "metrics.json")["members"] == MEMBERS
    assert read_json(joined / "config.json")["model"]["members"] == 2


def test_the_operating_point_is_fitted_on_the_joined_embedding(joined: Path) -> None:
    from siamkit.training.operating_point import operating_point

    best = load_run(joined, "best")
    selection = load_run(joined / "selection", "best")
    sel_cfg = selection.config
    cal, record = operating_point(  # type: ignore[misc]
        selection.model, best.model, prepare_data(sel_cfg), sel_cfg, checkpoint="selection/best"
    )
    point = read_json(joined / "metrics.json")["operating_point"]
    assert point["threshold"] == pytest.approx(record["threshold"], abs=1e-6)
    assert point["threshold"] == pytest.approx(cal.threshold, abs=1e-6)
    # the refit model alone has another scale, so another threshold
    alone = operating_point(  # type: ignore[misc]
        selection.model,
        load_run(joined, "last").model,
        prepare_data(sel_cfg),
        sel_cfg,
        checkpoint="selection/best",
    )
    assert abs(alone[1]["threshold"] - point["threshold"]) > 1e-3


def test_the_default_and_sized_distances_keep_one_model(tmp_path: Path) -> None:
    train(tiny_config(tmp_path / "one"), progress=False)  # off unless asked
    assert load_run(tmp_path / "one", "best").spec.members == 1
    maha = tiny_config(tmp_path / "maha", distance="mahalanobis", keep_selection=True)
    train(maha, progress=False)
    assert load_run(tmp_path / "maha", "best").spec.members == 1  # a learned distance: one model


def test_a_resumed_joined_run_is_not_joined_again(joined: Path) -> None:
    run = load_run(joined, "last")
    assert keeps_selection(run.config, run)
    assert not keeps_selection(run.config, load_run(joined, "best"))  # already two members


def test_a_spec_saved_before_members_builds_one_encoder() -> None:
    spec = ModelSpec(encoder="conv", input_shape=[1, 8, 8], kind="image", embedding_dim=16,
                     widths=[8, 16])  # fmt: skip
    assert spec.members == 1
    assert embed_all(build_model(spec), torch.rand(3, 1, 8, 8)).shape == (3, 16)
    with pytest.raises(ValueError, match="not a multiple of members"):
        build_model(spec.model_copy(update={"members": 3}))


def test_a_joined_run_exports_both_models(joined: Path, tmp_path: Path) -> None:
    assert_onnx_embeds_as_run(joined, tmp_path / "joined.onnx", items=5, parity=8)
