"""Defaults for text: a pretrained transformer (minilm, hf:PATH) is fine-tuned with AdamW at
lr 5e-5 and weight decay 0.01 unless told otherwise, and text data with one gets
multiple-negatives ranking with cosine distance when no loss is named (the WordNet recipe)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from siamkit.run.config import DEFAULT_TEXT_LOSS, default_loss
from siamkit.training import TrainConfig, load_run, train

TRAIN = "food,music,sport,tech"
EVAL = "travel,weather"


@pytest.mark.parametrize("encoder", ["minilm", "hf:/models/any"])
def test_pretrained_encoder_gets_the_fine_tuning_recipe(encoder: str) -> None:
    cfg = TrainConfig(data="text-pairs:p.jsonl", encoder=encoder)
    assert (cfg.loss, cfg.distance) == (DEFAULT_TEXT_LOSS, "cosine")
    assert (cfg.optimizer, cfg.lr, cfg.weight_decay) == ("adamw", 5e-5, 0.01)
    labelled = TrainConfig(data="text-labelled:q.csv", encoder=encoder)
    assert labelled.loss == "multiple_negatives_ranking"


def test_what_is_given_wins_and_other_encoders_keep_theirs() -> None:
    given = TrainConfig(data="text-pairs:p.jsonl", encoder="minilm", lr=1e-4, distance="euclidean")
    assert (given.lr, given.optimizer, given.distance) == (1e-4, "adamw", "euclidean")
    named = TrainConfig(data="text-pairs:p.jsonl", encoder="minilm", loss="contrastive")
    assert (named.loss, named.lr, named.distance) == ("contrastive", 5e-5, "euclidean")
    scratch = TrainConfig(data="text-pairs:p.jsonl", encoder="text_cnn")
    assert (scratch.loss, scratch.optimizer, scratch.lr) == ("contrastive", "adam", 1e-3)
    pairs = TrainConfig(data="text-pairs:p.jsonl", encoder="minilm", sampling="pairs")
    assert pairs.loss == "contrastive"  # explicit pairs: the contrastive loss takes them
    assert default_loss("text-pairs:p.jsonl") == "contrastive"  # encoder conv
    assert default_loss("text-pairs:p.jsonl", encoder="hf:x") == DEFAULT_TEXT_LOSS
    assert TrainConfig(data="digits").optimizer == "adam"


def test_a_minilm_run_trains_with_them(labelled_csv: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(
        data=f"text-labelled:{labelled_csv}", encoder="minilm", train_classes=TRAIN,
        eval_classes=EVAL, epochs=1, batch_size=8, max_length=16, val_pairs=100,
        out=str(tmp_path / "m"),
    )  # fmt: skip
    train(cfg, progress=False)
    run = load_run(tmp_path / "m", "last").config
    assert (run.loss, run.optimizer, run.lr, run.distance) == (
        DEFAULT_TEXT_LOSS, "adamw", 5e-5, "cosine",
    )  # fmt: skip
    state = torch.load(tmp_path / "m" / "last" / "trainer_state.pt", weights_only=False)
    group = state["optimizer"]["param_groups"][0]
    assert (group["lr"], group["weight_decay"]) == (5e-5, 0.01)
