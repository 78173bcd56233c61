"""Trainer: checkpoints, resume, determinism, NaN handling, validation carved from train classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from siamkit.losses import LOSSES, ContrastiveLoss
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.checkpoint import save_checkpoint
from siamkit.training import NonFiniteLossError, TrainConfig, load_run, prepare_data, train

from conftest import tiny_config


def _weights(run: Path, which: str = "last") -> dict[str, Tensor]:
    return load_file(str(run / which / "model.safetensors"))


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    spec = ModelSpec(
        encoder="conv", input_shape=[1, 8, 8], kind="image", embedding_dim=8, widths=[4, 8]
    )
    model = build_model(spec).eval()
    cfg = TrainConfig(out=str(tmp_path))
    save_checkpoint(tmp_path / "best", model, cfg, spec, {"val": {"threshold": 0.5}})
    loaded = load_run(tmp_path, "best")
    x = torch.rand(3, 1, 8, 8)
    # Weights are bit-identical (below); a loaded image model runs in NHWC layout, whose
    # different summation order moves the embedding in the last float32 digits only.
    assert torch.allclose(loaded.model.embed(x), model.embed(x), atol=1e-5)
    assert loaded.spec == spec and loaded.config == cfg
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)
    assert not (tmp_path / "best.tmp").exists()


def test_run_directory_contents(trained_run: Path) -> None:
    for which in ("best", "last"):
        for name in ("model.safetensors", "config.json", "metrics.json"):
            assert (trained_run / which / name).is_file()
    assert (trained_run / "last" / "trainer_state.pt").is_file()
    saved = json.loads((trained_run / "config.json").read_text())
    assert saved["train"]["data"] == "digits" and saved["model"]["input_shape"] == [1, 8, 8]
    # the shared run is refit (the default): the selection chose the epochs on validation
    selection = json.loads((trained_run / "selection" / "metrics.json").read_text())
    assert len(selection["history"]) == 2
    best = selection["history"][selection["best_epoch"] - 1]
    # The best epoch is the one with the highest validation ROC-AUC
    assert best["val"]["roc_auc"] == max(h["val"]["roc_auc"] for h in selection["history"])
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert len(metrics["history"]) == selection["best_epoch"] == metrics["refit"]["epochs"]
    assert metrics["threshold"] == metrics["operating_point"]["threshold"]


def test_same_seed_same_weights(tmp_path: Path) -> None:
    train(tiny_config(tmp_path / "a", epochs=1), progress=False)
    train(tiny_config(tmp_path / "b", epochs=1), progress=False)
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    train(tiny_config(tmp_path / "straight", epochs=3), progress=False)
    train(tiny_config(tmp_path / "resumed", epochs=1), progress=False)
    result = train(tiny_config(tmp_path / "resumed", epochs=3), resume=True, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    ws, wr = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    for k in ws:
        assert torch.allclose(ws[k], wr[k], atol=1e-6), k


def test_resume_refuses_changed_settings_and_missing_state(tmp_path: Path) -> None:
    train(tiny_config(tmp_path / "r", epochs=1), progress=False)
    with pytest.raises(ValueError, match="only --epochs may change"):
        train(tiny_config(tmp_path / "r", epochs=2, lr=0.1), resume=True, progress=False)
    with pytest.raises(ValueError, match="cannot resume"):
        train(tiny_config(tmp_path / "empty"), resume=True, progress=False)


def test_existing_run_is_not_overwritten_silently(tmp_path: Path) -> None:
    train(tiny_config(tmp_path / "r", epochs=1), progress=False)
    before = _weights(tmp_path / "r")
    with pytest.raises(ValueError, match="--overwrite"):
        train(tiny_config(tmp_path / "r", epochs=1, seed=1), progress=False)
    after = _weights(tmp_path / "r")
    assert all(torch.equal(before[k], after[k]) for k in before)


class _NaNAfter(nn.Module):
    """Contrastive loss that turns NaN after ``n`` calls."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.inner, self.calls, self.n = ContrastiveLoss(), 0, n

    def forward(self, emb: Tensor, labels: Tensor) -> Tensor:
        self.calls += 1
        value = self.inner(emb, labels)
        return value * float("nan") if self.calls > self.n else value


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "r", epochs=3, refit=False)
    n_batches = len(prepare_data(cfg).train) // 64 + 2  # more than one epoch's batches
    probe = _NaNAfter(10_000)
    train(tiny_config(tmp_path / "probe", epochs=1, refit=False), loss=probe, progress=False)
    per_epoch = probe.calls
    assert per_epoch <= n_batches
    loss = _NaNAfter(per_epoch + 1)  # epoch 2, batch index 1 (0-based) goes NaN
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, batch 1"):
        train(cfg, loss=loss, progress=False)
    kept = json.loads((tmp_path / "r" / "last" / "metrics.json").read_text())
    assert kept["epoch"] == 1
    load_run(tmp_path / "r", "last")  # still loads


def test_validation_is_carved_from_training_classes(tmp_path: Path) -> None:
    prepared = prepare_data(tiny_config(tmp_path, refit=False))  # one class held out
    assert prepared.val is not None
    assert set(prepared.train.y.tolist()) == {0, 1, 2, 3}
    assert set(prepared.val.y.tolist()) == {0, 1, 2, 3, 4}  # class 4 whole + 10% of 0-3
    from sklearn.datasets import load_digits

    fours = int((load_digits().target == 4).sum())
    assert int((prepared.val.y == 4).sum()) == fours  # digit 4 held out whole
    for c in range(4):  # 10% of each other training class
        n = int((load_digits().target == c).sum())
        assert int((prepared.val.y == c).sum()) == round(0.1 * n)
    with pytest.raises(ValueError, match="never be trained on"):
        prepare_data(tiny_config(tmp_path, train_classes="0-5", eval_classes="5-9"))


@pytest.mark.parametrize(
    ("loss", "sampling"), [("triplet", "balanced"), ("contrastive", "pairs"), ("triplet", "pairs")]
)
def test_other_recipes_train(tmp_path: Path, loss: str, sampling: str) -> None:
    result = train(tiny_config(tmp_path, epochs=1, loss=loss, sampling=sampling), progress=False)
    assert torch.isfinite(torch.tensor(result.history[0]["train_loss"]))
    assert 0.5 < result.best["roc_auc"] <= 1.0


def test_config_rejects_unknown_keys_and_names(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 3\nlos: triplet\n")
    with pytest.raises(ValueError, match="unknown setting 'los'"):
        TrainConfig.from_sources(path)
    path.write_text("epochs: 3\nloss: triplet\n")
    cfg = TrainConfig.from_sources(path, {"epochs": 7, "margin": None})
    assert (cfg.epochs, cfg.loss, cfg.margin) == (7, "triplet", None)  # None: the loss default
    for key, value, valid in [
        ("loss", "tripplet", ", ".join(LOSSES.names())),
        ("distance", "cosin", "cosine, euclidean, mahalanobis, manhattan, squared_euclidean"),
        ("encoder", "resnet", "conv, efficientnet_lite0, hf, minilm, mlp, text_cnn"),
    ]:
        with pytest.raises(ValueError, match=f"choose one of: {valid}"):
            TrainConfig.from_sources(None, {key: value})


def test_class_with_one_item_warns(tmp_path: Path) -> None:
    rows = ["a,b,label"] + [f"{i},{i % 3},{'xyz'[i % 3]}" for i in range(30)] + ["5,5,w"]
    table = tmp_path / "t.csv"
    table.write_text("\n".join(rows) + "\n")
    cfg = tiny_config(
        tmp_path / "r", data=f"csv:{table}", encoder="mlp", widths=[8], train_classes="w,x,y",
        eval_classes="z", val_classes="none", val_fraction=0.0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"\['w'\] have fewer than 2 items"):
        prepare_data(cfg)


@pytest.mark.filterwarnings("error:optimizer contains a parameter group with duplicate")
def test_learned_distance_is_one_parameter_of_the_optimizer(tmp_path: Path) -> None:
    # The Mahalanobis L is shared by the network and the loss; Adam must see it once (a
    # duplicate would be stepped twice, and PyTorch warns it will become an error).
    train(
        tiny_config(tmp_path, distance="mahalanobis", loss="contrastive", epochs=1), progress=False
    )
    l_trained = next(v for k, v in _weights(tmp_path).items() if k.startswith("distance."))
    assert not torch.allclose(l_trained, torch.eye(l_trained.shape[0]))  # it did learn
