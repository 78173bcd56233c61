"""The demo: the whole path on bundled data, in about a minute on 2 CPU cores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table

from siamkit.data import load_data
from siamkit.data.inputs import load_inputs
from siamkit.evaluation import embed_all, evaluate_model
from siamkit.training import TrainConfig, load_run, train


def run_demo(out_dir: str, epochs: int, console: Console) -> dict[str, float]:
    """Train on digits 0-4, evaluate on 5-9 (never seen), verify pairs of saved images.

    Returns:
        The held-out-class metrics.
    """
    cfg = TrainConfig(
        data="digits", train_classes="0-4", eval_classes="5-9", epochs=epochs, out=out_dir
    )
    console.rule("siamkit demo")
    console.print(
        "1. Training a Siamese network (conv encoder, contrastive loss) on digits 0-4.\n"
        "   Digit 4 and 10% of the others are held out to pick the best epoch and calibrate "
        "the distance threshold; digits 5-9 are never seen."
    )
    result = train(cfg, overwrite=True, progress=True, console=console)
    run = load_run(result.run_dir)
    console.print("\n2. Evaluating on digits 5-9, which the network never saw:")
    held_out = load_data("digits").of_classes([5, 6, 7, 8, 9])
    metrics = evaluate_model(run.model, held_out, threshold=result.threshold)
    table = Table()
    for col in ("precision@1", "ROC-AUC", "EER", "accuracy @ threshold"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{metrics.precision_at_1:.3f}", f"{metrics.roc_auc:.3f}", f"{metrics.eer:.3f}",
        f"{metrics.accuracy:.3f}",
    )  # fmt: skip
    console.print(table)
    (Path(out_dir) / "evaluation-best.json").write_text(json.dumps(metrics.as_dict(), indent=2))

    console.print("\n3. Verifying pairs of unseen digits saved as PNG files (as a user would):")
    examples = Path(out_dir) / "examples"
    examples.mkdir(exist_ok=True)
    picks = {}
    for digit in (5, 7, 9):
        idx = (held_out.y == digit).nonzero().flatten()[:2].tolist()
        for k, i in enumerate(idx):
            path = examples / f"digit{digit}_{k}.png"
            arr = (held_out.x[i, 0].numpy() * 255).round().astype(np.uint8)
            Image.fromarray(arr).save(path)
            picks[(digit, k)] = path
    pairs = [((5, 0), (5, 1)), ((7, 0), (7, 1)), ((5, 0), (7, 0)), ((9, 0), (7, 1))]
    for a, b in pairs:
        x, _ = load_inputs([str(picks[a]), str(picks[b])], run.spec)
        emb = embed_all(run.model, x)
        d = float(run.model.distance.pairwise(emb[:1], emb[1:])[0])
        same = d <= (result.threshold or 0.0)
        truth = "same digit" if a[0] == b[0] else "different digits"
        console.print(
            f"   {picks[a].name} vs {picks[b].name}: distance {d:.3f} -> "
            f"{'same' if same else 'different'} (truth: {truth})"
        )
    console.print(
        f"\nDone. The run is in {out_dir}/ (best/ and last/ checkpoints, config.json, "
        f"metrics.json, train.log, evaluation-best.json).\nTry: siamkit verify {out_dir} "
        f"{picks[(5, 0)]} {picks[(9, 0)]}"
    )
    return {k: float(v) for k, v in metrics.as_dict().items()}
