"""views=2: each labelled item enters the loss as two augmented views carrying its label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

import siamkit.training.trainer as trainer_module
from siamkit.training import train

from conftest import tiny_config


def test_two_views_double_the_batch_and_repeat_the_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Tensor, Tensor]] = []
    real = trainer_module.batch_loss

    def spy(loss_fn: Any, emb: Tensor, labels: Tensor | None, y: Tensor | None) -> Tensor:
        assert labels is not None
        seen.append((emb.detach().clone(), labels.clone()))
        return real(loss_fn, emb, labels, y)

    monkeypatch.setattr(trainer_module, "batch_loss", spy)
    train(tiny_config(tmp_path, epochs=1, views=2, loss="nt_xent"), progress=False)
    assert seen
    for emb, labels in seen:
        half = len(labels) // 2
        assert len(emb) == len(labels) == 2 * half
        assert torch.equal(labels[:half], labels[half:])  # view 2 of item i has item i's label
        # the two views differ (augmented independently), so their embeddings do too
        assert not torch.allclose(emb[:half], emb[half:])


def test_two_views_refuse_explicit_pairs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="views=2"):
        train(tiny_config(tmp_path, views=2, sampling="pairs"), progress=False)
