"""views=2: each labelled item enters the loss as two augmented views carrying its label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

import siamkit.training.step as step_module
from siamkit.training import train

from conftest import tiny_config


def test_two_views_double_the_batch_and_repeat_the_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Tensor, Tensor]] = []
    real = step_module.batch_loss

    def spy(
        loss_fn: Any,
        emb: Tensor,
        labels: Tensor | None,
        y: Tensor | None,
        eq: Tensor | None,
        roles: Tensor | None = None,
    ) -> Tensor:
        assert labels is not None and roles is None  # images have no anchor/response roles
        seen.append((emb.detach().clone(), labels.clone()))
        return real(loss_fn, emb, labels, y, eq, roles)

    monkeypatch.setattr(step_module, "batch_loss", spy)
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


def test_trainer_marks_duplicate_inputs_for_the_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every row of the CSV appears twice. In a batch, identical inputs must arrive marked
    # (inputs_equal), and only they: with no augmentation they embed bit-identically.
    g = torch.Generator().manual_seed(0)
    rows = torch.rand(90, 6, generator=g)
    labels = torch.arange(90) % 6
    lines = ["f0,f1,f2,f3,f4,f5,label"]
    for _ in range(2):
        lines += [",".join(f"{v:.6f}" for v in r.tolist()) + f",{c}" for r, c in zip(rows, labels)]
    csv = tmp_path / "dup.csv"
    csv.write_text("\n".join(lines) + "\n")
    marks: list[Tensor] = []
    real = step_module.batch_loss

    def spy(
        loss_fn: Any,
        emb: Tensor,
        lab: Tensor | None,
        y: Tensor | None,
        eq: Tensor | None = None,
        roles: Tensor | None = None,
    ) -> Tensor:
        assert eq is not None and lab is not None
        same_embedding = (emb[:, None, :] == emb[None, :, :]).all(-1)
        same_embedding.fill_diagonal_(False)
        assert torch.equal(eq, same_embedding)
        marks.append(eq)
        return real(loss_fn, emb, lab, y, eq, roles)

    monkeypatch.setattr(step_module, "batch_loss", spy)
    cfg = tiny_config(
        tmp_path / "run", data=f"csv:{csv}", train_classes="0-3", eval_classes="4-5",
        encoder="mlp", widths=[16], loss="multi_similarity", sampling="random", epochs=1,
    )  # fmt: skip
    train(cfg, progress=False)
    assert sum(int(m.sum()) for m in marks) > 0  # duplicates did meet in some batch
