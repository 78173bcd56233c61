"""Evaluating a run directory: load the checkpoint and data, run the suite, save the figures.

Example:
    >>> suite, record = evaluate_run("runs/fmnist")  # the run's evaluation classes, test split
    >>> record["verification"]["roc_auc"]["value"]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from siamkit.evaluation.calibrated_run import Calibration
from siamkit.evaluation.suite import EvaluationSuite, evaluate_suite


def evaluate_run(
    run_dir: str | Path,
    data: str | None = None,
    classes: str | None = None,
    split: str = "test",
    checkpoint: str = "best",
    num_pairs: int = 20_000,
    n_boot: int = 200,
    episodes: int = 600,
    seed: int = 0,
) -> tuple[EvaluationSuite, dict[str, Any]]:
    """Evaluate a trained run and write ``RUN/evaluation-CHECKPOINT.json`` and ``metrics.json``.

    Args:
        run_dir: A run directory from ``siamkit train``.
        data: Data source; default: the run's.
        classes: Classes to evaluate; default: the run's evaluation classes.
        split: ``test`` or ``train`` where the source has standard splits.
        checkpoint: ``best`` or ``last``.

    Returns:
        The suite and the JSON record written (figures + what was evaluated).
    """
    from siamkit.data import load_data, parse_classes
    from siamkit.training.checkpoint import load_run, write_json
    from siamkit.training.trainer import source_options

    if split not in ("train", "test"):
        raise ValueError(f"unknown split '{split}'; choose one of: test, train")
    if checkpoint not in ("best", "last"):
        raise ValueError(f"unknown checkpoint '{checkpoint}'; choose one of: best, last")
    run = load_run(run_dir, checkpoint)
    cfg = run.config
    source = data or cfg.data
    full = load_data(source, source_options(cfg), split=split)  # type: ignore[arg-type]
    cls = parse_classes(classes or cfg.eval_classes, full.class_names)
    trained: set[int] = set()
    if source == cfg.data:
        trained = set(parse_classes(cfg.train_classes, full.class_names))
    calibration = Calibration.load(run_dir)
    threshold = calibration.threshold if calibration else run.metrics.get("threshold")
    suite = evaluate_suite(
        run.model,
        full.of_classes(cls),
        threshold=threshold,
        num_pairs=num_pairs,
        n_boot=n_boot,
        episodes=episodes,
        seed=seed,
    )
    record = {
        "data": source,
        "split": split,
        "classes": [full.class_names[c] for c in cls],
        "seen_in_training": sorted(full.class_names[c] for c in set(cls) & trained),
        "checkpoint": checkpoint,
        **suite.as_dict(),
    }
    run_dir = Path(run_dir)
    write_json(run_dir / f"evaluation-{checkpoint}.json", record)
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    metrics[f"evaluation_{checkpoint}"] = record
    write_json(metrics_path, metrics)
    return suite, record
