"""Shared fixtures: a small trained run on digits, made once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from siamkit.training import TrainConfig, train

# One optimiser step over one batch, plain SGD: what a step-by-hand test compares against.
# the CLI flags of a quick `siamkit train` on digits (one epoch, small embeddings)
TINY_TRAIN_FLAGS = ["--epochs", "1", "--batch-size", "64", "--embedding-dim", "16", "--no-progress"]

ONE_STEP: dict[str, object] = {
    "epochs": 1,
    "train_classes": "0-1",  # about 320 items
    "batch_size": 512,  # one batch, one optimiser step
    "optimizer": "sgd",
    "momentum": 0.0,
    "lr": 0.5,
    "val_classes": "none",
    "val_fraction": 0.0,
    "channels_last": False,
    "input_mean": [0.3],
    "input_std": [0.4],
}


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


def tiny_config(out: Path, **overrides: object) -> TrainConfig:
    """Digits, 2 epochs, small encoder: about a second on 2 cores."""
    values: dict[str, object] = {
        "data": "digits",
        "train_classes": "0-4",
        "eval_classes": "5-9",
        "epochs": 2,
        "batch_size": 64,
        "widths": [8, 16],
        "embedding_dim": 16,
        "val_pairs": 500,
        "out": str(out),
        "seed": 0,
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run directory (digits 0-4, 2 epochs)."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    train(tiny_config(out), progress=False)
    return out


def start_with_batches(cfg: TrainConfig) -> tuple[torch.nn.Module, list[Any]]:
    """The model a run of ``cfg`` starts from (in train mode) and its first epoch's batches."""
    from siamkit.models.spec import build_model
    from siamkit.training.batches import epoch_batches
    from siamkit.training.setup import fit_standardize, model_spec, prepare_data

    prepared = prepare_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(model_spec(cfg, prepared.train))
    fit_standardize(model, prepared.train, cfg.input_mean, cfg.input_std)
    data = prepared.train
    data.y = torch.unique(data.y, return_inverse=True)[1]
    model.train()
    return model, epoch_batches(cfg, data, 0)


def one_step_start(cfg: TrainConfig) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """The model a ``ONE_STEP`` run starts from (in train mode) and its one batch (x, labels)."""
    model, batches = start_with_batches(cfg)
    (x, labels, _, _), *rest = batches
    assert not rest and labels is not None, "ONE_STEP settings should give one labelled batch"
    return model, x, labels


def first_turns(cfg: TrainConfig, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The quarter turns the trainer draws for a ``ONE_STEP`` run's batch ``x`` (epoch 0's
    generator), and ``x`` turned by them with ``torch.rot90``: ``(B,)`` and ``x``'s shape."""
    g = torch.Generator().manual_seed(cfg.seed * 7_919 + 0)  # the trainer's draws, epoch 0
    turns = torch.randint(4, (len(x),), generator=g)
    turned = torch.stack([torch.rot90(xi, int(k), dims=(1, 2)) for xi, k in zip(x, turns)])
    return turns, turned


def sgd_step(modules: list[torch.nn.Module], lr: float) -> None:
    """``p -= lr * p.grad`` for every parameter with a gradient."""
    with torch.no_grad():
        for m in modules:
            for p in m.parameters():
                if p.grad is not None:
                    p -= lr * p.grad


def assert_same_weights(
    got: dict[str, torch.Tensor], want: dict[str, torch.Tensor], atol: float
) -> None:
    """The same tensor names, each within ``atol``."""
    assert set(got) == set(want)
    for k in got:
        assert torch.allclose(got[k], want[k], atol=atol), k


def assert_onnx_embeds_as_run(run_dir: Path, onnx_path: Path, items: int, parity: int) -> None:
    """Export ``run_dir`` to ``onnx_path`` (parity checked on ``parity`` items) and check that
    the torch-free runtime embeds ``items`` training items as the run's torch model does."""
    pytest.importorskip("onnxruntime")
    from siamkit.export import export_run
    from siamkit.models.embed import embed_all
    from siamkit.runtime import OnnxEncoder
    from siamkit.training import load_run
    from siamkit.training.setup import prepare_data

    report = export_run(run_dir, onnx_path, parity_items=parity)
    assert report.parity.max_abs_diff < 1e-4
    run = load_run(run_dir)
    x = prepare_data(run.config).train.x[:items]
    got = OnnxEncoder(onnx_path).embed(x.numpy())
    torch.testing.assert_close(torch.from_numpy(got), embed_all(run.model, x), atol=1e-4, rtol=0)
