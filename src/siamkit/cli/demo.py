"""The demo: the whole path on bundled data, in about a minute on 2 CPU cores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table

from siamkit.data import load_data
from siamkit.data.inputs import load_inputs
from siamkit.evaluation import embed_all
from siamkit.evaluation.report import write_report
from siamkit.evaluation.run_eval import evaluate_run
from siamkit.run import Calibration
from siamkit.run.config import DEFAULT_IMAGE_ROTATION, DEFAULT_IMAGE_UNIFORMITY, SMALL_DATA_ITEMS
from siamkit.training import TrainConfig, load_run, train


def describe_recipe(cfg: TrainConfig) -> str:
    """What ``cfg`` trains, in words, read from the config itself (never a fixed text).

    Example:
        >>> describe_recipe(TrainConfig(data="digits", loss="triplet"))
        'a conv encoder; triplet loss'
    """
    parts = [f"{cfg.loss.replace('_', '-')} loss"]
    if cfg.uniformity is None:  # the image recipe's "auto": by the data's size
        parts.append(
            f"uniformity (weight {DEFAULT_IMAGE_UNIFORMITY:g} from {SMALL_DATA_ITEMS} images per "
            "class, off below)"
        )
    elif cfg.uniformity:
        parts.append(f"uniformity (weight {cfg.uniformity:g})")
    # rotation None: the image recipe's own weight, used on square images such as digits
    rotation = DEFAULT_IMAGE_ROTATION if cfg.rotation is None else cfg.rotation
    if rotation:
        parts.append(f"rotation prediction (weight {rotation:g})")
    return f"a {cfg.encoder} encoder; " + " + ".join(parts)


def run_demo(out_dir: str, epochs: int, console: Console) -> dict[str, Any]:
    """Train on digits 0-4, evaluate on 5-9 (never seen), verify pairs of saved images.

    Returns:
        The held-out-class evaluation record (as written to ``evaluation-best.json``).
    """
    cfg = TrainConfig(
        data="digits", train_classes="0-4", eval_classes="5-9", epochs=epochs, out=out_dir
    )
    console.rule("siamkit demo")
    console.print(
        f"1. Training a Siamese network on digits 0-4 with {describe_recipe(cfg)}.\n"
        "   First digits 3-4 and 10% of the others are held out to choose the epoch count and\n"
        "   the operating point; then the final model trains on all of digits 0-4. Digits 5-9\n"
        "   are never seen."
    )
    result = train(cfg, overwrite=True, progress=True, console=console)
    run = load_run(result.run_dir)
    cal = Calibration.load(out_dir)
    if cal is None:  # no held-out split to fit it on (not with the demo's settings)
        raise RuntimeError(f"{out_dir} has no operating point; train it again")
    op = run.metrics.get("operating_point") or {}
    console.print(
        "\n2. The operating point, fitted on pairs of the held-out digits 3-4 for a false accept "
        f"rate of {op.get('target_far', cal.target_far)}:\n"
        f"   same if distance <= {cal.threshold:.3f}; there FAR {cal.calibration_rates.far:.3f}, "
        f"FRR {cal.calibration_rates.frr:.3f} (the promise), with a distance -> P(same) map"
    )
    console.print("\n3. Evaluating on digits 5-9, which the network never saw:")
    _, record = evaluate_run(out_dir, n_boot=100, episodes=300)
    held_out = load_data("digits").of_classes([5, 6, 7, 8, 9])
    v, r = record["verification"], record["retrieval"]
    table = Table()
    for col in ("precision@1", "MAP@R", "ROC-AUC", "EER", "5-way 1-shot", "accuracy @ threshold"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{r['precision_at_1']:.3f}", f"{r['map_at_r']:.3f}", f"{v['roc_auc']['value']:.3f}",
        f"{v['eer']['value']:.3f}", f"{record['few_shot'][0]['mean']:.3f}",
        f"{v['accuracy_at_threshold']['value']:.3f}",
    )  # fmt: skip
    console.print(table)
    point = record.get("operating_point") or {}
    if point.get("far") is not None:
        console.print(
            f"   at the operating point: FAR {point['far']:.3f} (promised "
            f"{point['promised_far']:.3f}), FRR {point['frr']:.3f} (promised "
            f"{point['promised_frr']:.3f})"
        )
    report = write_report(out_dir, Path(out_dir) / "report.html", n_boot=100, episodes=300)
    console.print(f"   Full tables: siamkit evaluate {out_dir}; HTML report: {report}")

    console.print("\n4. Verifying pairs of unseen digits saved as PNG files (as a user would):")
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
        same = bool(cal.accept([d])[0])
        p = float(cal.probability_map.predict([d])[0])
        truth = "same digit" if a[0] == b[0] else "different digits"
        console.print(
            f"   {picks[a].name} vs {picks[b].name}: distance {d:.3f}, P(same) {p:.2f} -> "
            f"{'same' if same else 'different'} (truth: {truth})"
        )
    console.print(
        f"\nDone. The run is in {out_dir}/ (best/ and last/ checkpoints, config.json, "
        f"metrics.json, "
        f"train.log, selection/, calibration.json, evaluation-best.json, report.html).\n"
        f"Try: siamkit verify {out_dir} {picks[(5, 0)]} {picks[(9, 0)]}"
    )
    return record
