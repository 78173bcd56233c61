"""The CLI's happy paths and its answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.data import load_data
from siamkit.evaluation import embed_all
from siamkit.losses import LOSSES
from siamkit.training import load_run

runner = CliRunner()
TINY = ["--epochs", "1", "--batch-size", "64", "--embedding-dim", "16", "--no-progress"]


def _digit_png(folder: Path, digit: int, k: int) -> Path:
    data = load_data("digits")
    i = int((data.y == digit).nonzero().flatten()[k])
    path = folder / f"d{digit}_{k}.png"
    Image.fromarray((data.x[i, 0].numpy() * 255).round().astype(np.uint8)).save(path)
    return path


def test_train_then_evaluate_json(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", "digits", "--out", str(out), *TINY])
    assert r.exit_code == 0, r.output
    assert (out / "best" / "model.safetensors").is_file()
    fast = ["--pairs", "2000", "--bootstrap", "20", "--episodes", "50"]
    r = runner.invoke(app, ["evaluate", str(out), "--json", *fast])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["classes"] == ["5", "6", "7", "8", "9"]
    assert result["seen_in_training"] == []
    v = result["verification"]
    for key in ("roc_auc", "eer", "best_accuracy", "best_f1", "tar_at_far_0.01", "far", "frr"):
        assert v[key]["low"] <= v[key]["value"] <= v[key]["high"], key
    assert 0.0 <= result["retrieval"]["map_at_r"] <= result["retrieval"]["precision_at_1"]
    assert {row["distance"] for row in result["distances"]} == {
        "cosine", "euclidean", "manhattan", "squared_euclidean"
    }  # fmt: skip
    assert [(f["n_way"], f["k_shot"]) for f in result["few_shot"]][:2] == [(5, 1), (5, 5)]
    saved = json.loads((out / "evaluation-best.json").read_text())
    assert saved == result
    assert json.loads((out / "metrics.json").read_text())["evaluation_best"] == result
    r = runner.invoke(app, ["evaluate", str(out), *fast])
    assert r.exit_code == 0 and "map_at_r" in r.stdout and "open-set" in r.stdout


def test_config_file_and_saved_resolved_config(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: digits\nloss: triplet\nmargin: 0.3\nepochs: 1\nbatch_size: 64\n")
    out = tmp_path / "run"
    r = runner.invoke(
        app, ["train", "--config", str(cfg), "--margin", "0.5", "--out", str(out), "--no-progress"]
    )
    assert r.exit_code == 0, r.output
    saved = json.loads((out / "config.json").read_text())["train"]
    assert (saved["loss"], saved["margin"], saved["epochs"]) == ("triplet", 0.5, 1)
    cfg.write_text("epochs: 1\nlearning_rate: 0.1\n")
    r = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "unknown setting 'learning_rate'" in r.output


def test_verify_and_embed(trained_run: Path, tmp_path: Path) -> None:
    a, b, c = _digit_png(tmp_path, 5, 0), _digit_png(tmp_path, 5, 1), _digit_png(tmp_path, 9, 0)
    run = load_run(trained_run)
    r = runner.invoke(app, ["verify", str(trained_run), str(a), str(c), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    x = torch.stack(
        [
            torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255).unsqueeze(0)
            for p in (a, c)
        ]
    )
    emb = embed_all(run.model, x)
    expected = float(torch.linalg.vector_norm(emb[0] - emb[1]))
    assert got["distance"] == pytest.approx(expected, abs=1e-5)
    assert got["same"] == (expected <= run.metrics["threshold"])
    r = runner.invoke(app, ["verify", str(trained_run), str(a), str(b)])
    assert r.exit_code == 0 and "distance" in r.stdout

    out = tmp_path / "emb.npy"
    r = runner.invoke(app, ["embed", str(trained_run), str(a), str(c), "--out", str(out)])
    assert r.exit_code == 0, r.output
    saved = np.load(out)
    assert saved.shape == (2, 16)
    assert np.allclose(saved, emb.numpy(), atol=1e-6)
    assert out.with_suffix(".txt").read_text().split() == [str(a), str(c)]


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        (
            "--loss",
            "tripplet",
            "unknown loss 'tripplet'; choose one of: " + ", ".join(LOSSES.names()),
        ),
        (
            "--distance",
            "cosin",
            "choose one of: cosine, euclidean, mahalanobis, manhattan, squared_euclidean",
        ),
        (
            "--encoder",
            "resnet",
            "unknown encoder 'resnet'; choose one of: conv, efficientnet_lite0, hf, minilm, mlp, text_cnn",
        ),
        (
            "--data",
            "mnist",
            "unknown data source 'mnist'; choose one of: cedar, cedar-hands, csv, digits, fashion-mnist",
        ),
        ("--train-classes", "0-4,12", "class '12' is not in the data"),
        ("--eval-classes", "cat", "class 'cat' is not in the data"),
        ("--views", "3", "setting 'views': Input should be 1 or 2 (got 3)"),
        ("--val-fraction", "1.5", "setting 'val_fraction': Input should be less than 1"),
    ],
)
def test_train_bad_names(tmp_path: Path, flag: str, value: str, expected: str) -> None:
    r = runner.invoke(app, ["train", flag, value, "--out", str(tmp_path / "r"), *TINY])
    assert r.exit_code == 2
    assert expected in " ".join(r.output.split())


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["train", "--data", f"fashion-mnist:{tmp_path}", "--out", str(tmp_path / "r"), *TINY]
    )
    assert r.exit_code == 2
    assert "apt-get install dataset-fashion-mnist" in " ".join(r.output.split())


def test_unreadable_image_is_named(trained_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    good = _digit_png(tmp_path, 5, 0)
    r = runner.invoke(app, ["verify", str(trained_run), str(good), str(bad)])
    assert r.exit_code == 2
    assert "broken.png" in r.output and "cannot read image" in " ".join(r.output.split())


def _image_folder(root: Path, sizes: dict[str, tuple[int, int]]) -> None:
    rng = np.random.default_rng(0)
    for cls in ("a", "b", "c"):
        (root / cls).mkdir(parents=True)
        for k in range(4):
            h, w = sizes.get(f"{cls}{k}", (12, 12))
            Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(
                root / cls / f"{k}.png"
            )


def test_image_folder_mismatched_sizes_resize_or_reject(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    _image_folder(root, {"b2": (20, 16)})
    args = [
        "train",
        "--data",
        f"image-folder:{root}",
        "--train-classes",
        "a,b",
        "--eval-classes",
        "c",
        *TINY,
    ]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "ok")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "ok" / "config.json").read_text())["model"]["input_shape"] == [
        1,
        12,
        12,
    ]
    r = runner.invoke(app, [*args, "--on-mismatch", "reject", "--out", str(tmp_path / "no")])
    assert r.exit_code == 2
    assert "2.png is 20x16, expected 12x12" in " ".join(r.output.split())


def test_vector_model_from_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["f1,f2,f3,label"]
    for i in range(120):
        c = i % 4
        f = rng.normal(c, 0.3, 3)
        lines.append(f"{f[0]:.4f},{f[1]:.4f},{f[2]:.4f},{'wxyz'[c]}")
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            f"csv:{table}",
            "--encoder",
            "mlp",
            "--train-classes",
            "w,x,y",
            "--eval-classes",
            "z",
            "--val-classes",
            "y",
            "--out",
            str(out),
            *TINY,
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["verify", str(out), "0,0,0", "0.1,0,0", "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["verify", str(out), "0,0", "0.1,0,0"])
    assert r.exit_code == 2 and "the model takes 3" in r.output


def test_not_a_run_directory(tmp_path: Path) -> None:
    r = runner.invoke(app, ["evaluate", str(tmp_path)])
    assert r.exit_code == 2 and "not a finished siamkit run" in " ".join(r.output.split())


def test_demo_runs(tmp_path: Path) -> None:
    r = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    metrics = json.loads((tmp_path / "demo" / "evaluation-best.json").read_text())
    assert metrics["num_classes"] == 5 and 0.5 < metrics["verification"]["roc_auc"]["value"] <= 1.0
    assert (tmp_path / "demo" / "report.html").is_file()
    assert (tmp_path / "demo" / "calibration.json").is_file()
    assert "digits 5-9" in r.output
