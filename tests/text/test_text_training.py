"""Text through train, evaluate, calibrate and verify; gradient accumulation by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from siamkit.data.inputs import load_inputs
from siamkit.evaluation.calibrated_run import calibrate_run
from siamkit.evaluation.run_eval import evaluate_run
from siamkit.losses import get_loss
from siamkit.models.embed import embed_all
from siamkit.models.spec import build_model
from siamkit.training import TrainConfig, load_run, train
from siamkit.training.batches import epoch_batches
from siamkit.training.setup import model_spec, prepare_data

TRAIN = "food,music,sport,tech"
EVAL = "travel,weather"


def _config(data: Path, out: Path, **overrides: object) -> TrainConfig:
    values: dict[str, object] = {
        "data": f"text-labelled:{data}",
        "encoder": "text_cnn",
        "embedding_dim": 16,
        "widths": [16, 32],
        "max_length": 16,
        "train_classes": TRAIN,
        "eval_classes": EVAL,
        "epochs": 2,
        "batch_size": 8,
        "val_pairs": 100,
        "out": str(out),
        "seed": 0,
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", ["contrastive", "triplet", "multiple_negatives_ranking"])
def test_text_cnn_trains_with_each_loss(labelled_csv: Path, tmp_path: Path, loss: str) -> None:
    result = train(_config(labelled_csv, tmp_path / loss, loss=loss), progress=False)
    losses = [h["train_loss"] for h in result.history]
    assert all(torch.isfinite(torch.tensor(losses)))
    run = load_run(tmp_path / loss)
    assert run.spec.kind == "text" and run.spec.tokenizer == "minilm"
    assert run.spec.max_length == 16


def test_text_run_through_every_surface(labelled_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(_config(labelled_csv, out, sampling="random", epochs=3), progress=False)
    _, record = evaluate_run(out, num_pairs=200, n_boot=5, episodes=5)
    assert sorted(record["classes"]) == ["travel", "weather"]
    assert 0.0 <= record["verification"]["roc_auc"]["value"] <= 1.0
    cal = calibrate_run(out, num_pairs=200)
    assert cal.source is not None and set(cal.source.calibration_classes) <= set(TRAIN.split(","))
    run = load_run(out)
    (tmp_path / "a.txt").write_text("pizza with cheese")
    x, names = load_inputs([str(tmp_path / "a.txt"), "a long guitar solo"], run.spec)
    assert x.shape == (2, 16) and names[0].endswith("a.txt")
    emb = embed_all(run.model, x)
    # the same texts embedded from the training data's ids give the same vectors
    again = load_inputs(["a long guitar solo"], run.spec)[0]
    assert torch.allclose(embed_all(run.model, again), emb[1:], atol=1e-6)


def test_text_data_needs_a_text_encoder(labelled_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="text data needs a text encoder"):
        train(_config(labelled_csv, tmp_path / "x", encoder="mlp"), progress=False)


@pytest.mark.parametrize("option", [{"augment": True}, {"views": 2}, {"self_supervised": True}])
def test_text_runs_refuse_image_transforms(
    labelled_csv: Path, tmp_path: Path, option: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="transform images; text runs take none"):
        train(_config(labelled_csv, tmp_path / "x", **option), progress=False)


def test_minilm_defaults_to_its_own_size(labelled_csv: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(
        data=f"text-labelled:{labelled_csv}",
        encoder="minilm",
        train_classes=TRAIN,
        eval_classes=EVAL,
    )
    assert model_spec(cfg, prepare_data(cfg).train).embedding_dim == 384


def test_gradient_accumulation_equals_one_step_on_the_summed_losses(
    labelled_csv: Path, tmp_path: Path
) -> None:
    cfg = _config(
        labelled_csv,
        tmp_path / "acc",
        epochs=1,
        sampling="random",
        batch_size=12,  # 24 training items: 2 batches, one optimiser step
        grad_accum=2,
        optimizer="sgd",
        momentum=0.0,
        lr=0.5,
        val_classes="none",
        val_fraction=0.0,
    )
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "acc" / "last" / "model.safetensors"))
    # by hand: the same initial weights, the same batches, mean of the two batch losses
    prepared = prepare_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(model_spec(cfg, prepared.train))
    data = prepared.train
    data.y = torch.unique(data.y, return_inverse=True)[1]
    batches = epoch_batches(cfg, data, 0)
    assert len(batches) == 2
    loss_fn = get_loss("contrastive")
    model.train()
    total = sum(loss_fn(model.embed(x), labels) for x, labels, _, _ in batches)
    (total / 2).backward()  # type: ignore[union-attr]
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.5 * p.grad
    want = model.state_dict()
    assert set(got) == set(want)
    for k in got:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def _pairs_run(tmp_path: Path, name: str, **overrides: object) -> TrainConfig:
    """18 pairs of same-topic sentences (text_a, text_b); pairs 0-15 train, plain SGD."""
    from .conftest import TOPICS

    rows = [(t[i], t[i + 1]) for t in TOPICS.values() for i in range(0, 6, 2)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(f'{{"text_a": "{a}", "text_b": "{b}", "label": 1}}\n' for a, b in rows))
    values: dict[str, object] = {
        "loss": "multiple_negatives_ranking",
        "distance": "cosine",
        "train_classes": "0-15",
        "eval_classes": "16-17",
        "epochs": 1,
        "batch_size": 32,  # 16 pairs: one batch
        "classes_per_batch": 16,
        "optimizer": "sgd",
        "momentum": 0.0,
        "lr": 0.5,
        "val_classes": "none",
        "val_fraction": 0.0,
    }
    values.update(overrides)
    cfg = _config(path, tmp_path / name, **values)
    return cfg.model_copy(update={"data": f"text-pairs:{path}"})


def _sgd(model: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.5 * p.grad
    model.zero_grad()


def test_ranking_loss_on_text_pairs_uses_each_text_role(tmp_path: Path) -> None:
    from siamkit.losses import MultipleNegativesRankingLoss, NTXentLoss

    cfg = _pairs_run(tmp_path, "mnrl")
    train(cfg, progress=False)
    got = load_file(str(tmp_path / "mnrl" / "last" / "model.safetensors"))
    prepared = prepare_data(cfg)
    data = prepared.train
    data.y = torch.unique(data.y, return_inverse=True)[1]
    (x, labels, _, roles), *rest = epoch_batches(cfg, data, 0)
    assert not rest and labels is not None and roles is not None
    # every pair's text_a is an anchor and its text_b the response
    assert sorted(zip(labels.tolist(), roles.tolist(), strict=True)) == [
        (k, r) for k in range(16) for r in (0, 1)
    ]
    steps = {}
    for name, loss_fn, kw in [
        ("ranked", MultipleNegativesRankingLoss(), {"roles": roles}),
        ("nt_xent", NTXentLoss(temperature=0.05), {}),
    ]:
        torch.manual_seed(cfg.seed)
        model = build_model(model_spec(cfg, prepared.train))
        model.train()
        loss_fn(model.embed(x), labels, **kw).backward()
        _sgd(model)
        steps[name] = model.state_dict()
    assert set(got) == set(steps["ranked"])
    for k in got:
        assert torch.allclose(got[k], steps["ranked"][k], atol=1e-6), k
    # the step without roles differs, so the comparison above can tell them apart
    assert any(not torch.allclose(got[k], steps["nt_xent"][k], atol=1e-4) for k in got)


def test_dropout_setting_reaches_the_trainer(labelled_csv: Path, tmp_path: Path) -> None:
    # the text CNN has no dropout layer: the trainer applies --dropout and says it does nothing
    with pytest.raises(ValueError, match=r"--dropout 0\.0: this encoder has no dropout layers"):
        train(_config(labelled_csv, tmp_path / "d", dropout=0.0), progress=False)
