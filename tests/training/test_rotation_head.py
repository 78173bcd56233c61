"""--rotation-hidden H: the rotation task's head, Linear-ReLU-Linear of width H (128 unless
given), or one linear layer for 0; checked against the cross-entropy by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from siamkit.losses import RotationLoss
from siamkit.training import load_run

from conftest import TINY_TRAIN_FLAGS


def test_linear_head_is_cross_entropy_of_one_layer() -> None:
    torch.manual_seed(0)
    loss = RotationLoss(embedding_dim=6, hidden=0)
    assert isinstance(loss.head, torch.nn.Linear)
    emb, k = torch.randn(8, 6), torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    logits = emb @ loss.head.weight.T + loss.head.bias
    want = -torch.log_softmax(logits, dim=1)[torch.arange(8), k].mean()
    assert torch.allclose(loss(emb, k), want, atol=1e-6)
    assert torch.allclose(want, F.cross_entropy(logits, k))
    with pytest.raises(ValueError, match="hidden width must be >= 0"):
        RotationLoss(embedding_dim=6, hidden=-1)


def test_cli_run_saves_the_head_it_used(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from siamkit.cli.main import app

    tiny = ["train", *TINY_TRAIN_FLAGS]
    r = CliRunner().invoke(app, [*tiny, "--rotation-hidden", "0", "--out", str(tmp_path / "lin")])
    assert r.exit_code == 0, r.output
    weights = load_file(str(tmp_path / "lin" / "last" / "loss.safetensors"))
    assert weights["rotation.head.weight"].shape == (4, 16)  # (turns, D): one layer
    assert load_run(tmp_path / "lin", "last").config.rotation_hidden == 0
    r = CliRunner().invoke(app, [*tiny, "--rotation-hidden", "-1", "--out", str(tmp_path / "no")])
    assert r.exit_code != 0 and "rotation_hidden" in r.output
    assert not (tmp_path / "no").exists()
