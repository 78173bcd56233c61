"""``loss_options`` (``--loss-option KEY=VALUE``): the loss's other numeric options by name,
checked against the same loss built by hand, and the answers to options it does not take."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.cli.options import parse_loss_options
from siamkit.losses import MultiSimilarityLoss
from siamkit.models.spec import build_model
from siamkit.run.config import TrainConfig
from siamkit.training.objective import build_loss
from siamkit.training.setup import model_spec, prepare_data

from conftest import TINY_TRAIN_FLAGS, tiny_config

runner = CliRunner()


def _built(tmp_path: Path, **overrides: object) -> torch.nn.Module:
    cfg = tiny_config(tmp_path / "r", loss="multi_similarity", rotation=0.0, **overrides)
    return build_loss(cfg, build_model(model_spec(cfg, prepare_data(cfg).train)), 5)


def test_options_reach_the_loss(tmp_path: Path) -> None:
    built = _built(tmp_path, loss_options={"beta": 20.0, "base": 0.3})
    assert isinstance(built, MultiSimilarityLoss)
    emb, labels = torch.randn(12, 8), torch.arange(4).repeat(3)
    by_hand = MultiSimilarityLoss(beta=20.0, base=0.3)(emb, labels)
    assert torch.allclose(built(emb, labels), by_hand)
    assert not torch.allclose(by_hand, MultiSimilarityLoss()(emb, labels))  # options matter


def test_an_option_the_loss_does_not_take_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not take gamma; it takes: alpha, beta, base"):
        _built(tmp_path, loss_options={"gamma": 1.0})


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"margin": 0.5}, "margin has its own setting; use --margin instead"),
        ({"num_classes": 3.0}, "num_classes has its own setting; use nothing (the training data"),
        ({"base": math.nan}, "base=nan is not a finite number"),
        ({"beta": math.inf}, "beta=inf is not a finite number"),
    ],
)
def test_own_settings_and_non_finite_values_are_refused(
    tmp_path: Path, options: dict[str, float], expected: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        TrainConfig.from_sources(None, {"loss": "multi_similarity", "loss_options": options})


def test_parse() -> None:
    assert parse_loss_options(["beta=20", " base = 0.3"]) == {"beta": 20.0, "base": 0.3}
    assert parse_loss_options(None) is None
    for bad in ["beta", "beta=", "=2", "beta=high"]:
        with pytest.raises(ValueError, match="expected KEY=NUMBER"):
            parse_loss_options([bad])


def test_cli_saves_them_and_names_bad_ones(tmp_path: Path) -> None:
    common = ["train", "--loss", "multi_similarity", "--rotation", "0", *TINY_TRAIN_FLAGS]
    out = tmp_path / "ok"
    args = [*common, "--loss-option", "beta=20", "--loss-option", "alpha=1", "--out", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    saved = json.loads((out / "config.json").read_text())["train"]["loss_options"]
    assert saved == {"beta": 20.0, "alpha": 1.0}
    r = runner.invoke(app, [*common, "--loss-option", "beta", "--out", str(tmp_path / "no")])
    assert r.exit_code == 2
    assert "--loss-option 'beta': expected KEY=NUMBER" in " ".join(r.output.split())
    assert not (tmp_path / "no").exists()
