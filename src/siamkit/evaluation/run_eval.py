"""Evaluating a run directory: load the checkpoint and data, run the suite, save the figures.

Figures on classes the run never trained on are its held-out figures: they go to
``RUN/evaluation-CHECKPOINT.json`` and under ``evaluation_CHECKPOINT`` in ``RUN/metrics.json``.
An evaluation that includes any trained class is kept apart, in
``RUN/evaluation-seen-CHECKPOINT.json`` only, so it can never pass for a held-out figure.

Example:
    >>> suite, record = evaluate_run("runs/digits", num_pairs=2000, n_boot=20, episodes=20)
    >>> record["classes"], record["held_out"]  # the run's evaluation classes, never trained on
    (['5', '6', '7', '8', '9'], True)
    >>> record["file"]
    'evaluation-best.json'
    >>> 0.5 < record["verification"]["roc_auc"]["value"] <= 1.0
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from siamkit.data import load_data, parse_classes
from siamkit.evaluation.suite import EvaluationSuite, evaluate_suite
from siamkit.run import Calibration, is_training_operating_point, open_run, read_json, write_json
from siamkit.run.model_card import write_model_card

NO_EVAL_CLASSES = "none"  # a run's eval_classes when it trained on every class of its data
ALL_CLASSES = "all"  # a run's train_classes when it trained on every class of its data
THRESHOLD_SOURCES = {"calibration": "calibration.json", "training": "training"}  # how a
# record's operating_point["from"] is shown


def evaluation_file(checkpoint: str, held_out: bool) -> str:
    """The file name, inside the run directory, an evaluation record is written to.

    Example:
        >>> evaluation_file("best", held_out=False)
        'evaluation-seen-best.json'
    """
    return f"evaluation-{checkpoint}.json" if held_out else f"evaluation-seen-{checkpoint}.json"


def trained_class_indices(train_classes: str, class_names: Sequence[str]) -> list[int]:
    """Indices of the classes a run trained on, from its ``train_classes`` setting.

    Args:
        train_classes: The run config's ``train_classes``: a class spec such as ``0-4``, or
            ``all`` for every class of the data.
        class_names: The classes of the run's data source.

    Example:
        >>> trained_class_indices("all", ["a", "b", "c"])
        [0, 1, 2]
    """

    if train_classes.strip() == ALL_CLASSES:
        return list(range(len(class_names)))
    return parse_classes(train_classes, class_names)


def _operating_point(
    suite: EvaluationSuite, calibration: Calibration | None, metrics: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The run's threshold, what it promised and what it achieved on the evaluated pairs.

    The achieved FAR/FRR are the suite's own verification figures at the threshold (the same
    pairs as every other verification figure). The threshold is "from training" when there is
    no ``calibration.json`` or when it holds the training's own operating point (training saves
    it there too); otherwise "from calibration" (``siamkit calibrate``), whose promise is its
    test rates, else its calibration rates. None when the run has no threshold.
    """
    v = suite.verification
    if suite.threshold is None or v.far is None or v.frr is None:
        return None
    op = metrics.get("operating_point")
    op = op if isinstance(op, Mapping) else {}
    if calibration is None or is_training_operating_point(calibration, metrics):
        source = "training"
        target, promised_far, promised_frr = (
            _number(op.get(key)) for key in ("target_far", "promised_far", "promised_frr")
        )
    else:
        promise = calibration.test_rates or calibration.calibration_rates
        source = "calibration"
        target, promised_far, promised_frr = calibration.target_far, promise.far, promise.frr
    return {
        "threshold": suite.threshold,
        "from": source,
        "target_far": target,
        "promised_far": promised_far,
        "promised_frr": promised_frr,
        "far": v.far.value,
        "frr": v.frr.value,
    }


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


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
    """Evaluate a trained run and write its record into the run directory.

    On held-out classes only (none the run trained on, or another data source) the record goes
    to ``RUN/evaluation-CHECKPOINT.json`` and under ``evaluation_CHECKPOINT`` in
    ``RUN/metrics.json``. If any evaluated class was trained on, it goes to
    ``RUN/evaluation-seen-CHECKPOINT.json`` only, and the held-out figures stay untouched.

    Args:
        run_dir: A run directory from ``siamkit train``.
        data: Data source; default: the run's.
        classes: Classes to evaluate; default: the run's evaluation classes (required when the
            run has none, ``eval_classes: none``).
        split: ``test`` or ``train`` where the source has standard splits.
        checkpoint: ``best`` or ``last``.
        num_pairs, n_boot, episodes, seed: As in :func:`evaluate_suite`.

    Returns:
        The suite and the JSON record written: the figures, what was evaluated, ``held_out``,
        ``seen_in_training`` (trained class names among those evaluated), ``file`` (the name
        written inside ``run_dir``) and ``operating_point`` (the run's threshold, its source,
        the FAR/FRR it promised and the FAR/FRR achieved here; None without a threshold).

    Raises:
        ValueError: Bad settings, not a run directory, or no classes to evaluate; says how to
            fix it.
    """
    from siamkit.run.checkpoint import load_run
    from siamkit.run.config import source_options

    if split not in ("train", "test"):
        raise ValueError(f"unknown split '{split}'; choose one of: test, train")
    if checkpoint not in ("best", "last"):
        raise ValueError(f"unknown checkpoint '{checkpoint}'; choose one of: best, last")
    run = load_run(run_dir, checkpoint)
    cfg = run.config
    untrained = cfg.train_classes.strip() == "none"
    if classes is None and untrained and cfg.eval_classes.strip() == NO_EVAL_CLASSES:
        raise ValueError(
            f"run {run_dir} was made without training (`siamkit init`) and names no "
            "evaluation classes; pass --data SOURCE --classes C"
        )
    if classes is None and cfg.eval_classes.strip() == NO_EVAL_CLASSES:
        raise ValueError(
            f"run {run_dir} has no evaluation classes (eval_classes '{NO_EVAL_CLASSES}': it "
            f"trained on every class of {cfg.data}); pass --data SOURCE --classes C with data "
            "of your own, classes it never trained on"
        )
    source = data or cfg.data
    full = load_data(source, source_options(cfg), split=split)  # type: ignore[arg-type]
    cls = parse_classes(classes or cfg.eval_classes, full.class_names)
    trained: set[int] = set()
    if source == cfg.data:
        trained = set(trained_class_indices(cfg.train_classes, full.class_names))
    seen = sorted(full.class_names[c] for c in set(cls) & trained)
    rule = open_run(run_dir, checkpoint).decision_rule(run.model.distance.larger_is_closer)
    calibration = Calibration.load(run_dir)
    threshold = None if rule is None else rule.threshold
    suite = evaluate_suite(
        run.model,
        full.of_classes(cls),
        threshold=threshold,
        num_pairs=num_pairs,
        n_boot=n_boot,
        episodes=episodes,
        seed=seed,
    )
    held_out = not seen
    name = evaluation_file(checkpoint, held_out)
    record = {
        "data": source,
        "split": split,
        "classes": [full.class_names[c] for c in cls],
        "held_out": held_out,
        "seen_in_training": seen,
        "checkpoint": checkpoint,
        "file": name,
        **suite.as_dict(),
        "operating_point": _operating_point(suite, calibration, run.metrics),
    }
    run_dir = Path(run_dir)
    write_json(run_dir / name, record)
    if held_out:
        metrics_path = run_dir / "metrics.json"
        metrics = read_json(metrics_path) if metrics_path.is_file() else {}
        metrics[f"evaluation_{checkpoint}"] = record
        write_json(metrics_path, metrics)
        write_model_card(run_dir)  # the card shows the held-out figures
    return suite, record


def threshold_origin(record: Mapping[str, Any]) -> str:
    """Where the run's threshold came from: ``from calibration.json``, ``from training`` (its
    operating point), or ``from training's validation pairs, not calibrated`` (a run without
    an operating point: the best-accuracy threshold on validation pairs).

    Only a threshold from ``calibration.json`` is ever called calibrated.
    """
    op = record.get("operating_point") or {}
    source = THRESHOLD_SOURCES.get(op.get("from", ""), "")
    if op.get("from") == "training" and all(
        op.get(key) is None for key in ("target_far", "promised_far", "promised_frr")
    ):
        return "from training's validation pairs, not calibrated"
    return f"from {source}" if source else "from the run"


def operating_point_line(record: Mapping[str, Any]) -> str | None:
    """The run's threshold, where it came from, and FAR/FRR promised beside those achieved.

    Args:
        record: An evaluation record (see ``siamkit.evaluation.run_eval.evaluate_run``).

    Returns:
        One line, or None when the record has no operating point (the run has no threshold).

    Example:
        ``operating point: threshold 0.8100 (from training, target FAR 0.05); FAR promised
        0.050, achieved 0.063; FRR promised 0.210, achieved 0.250``
    """
    op = record.get("operating_point")
    if not op:
        return None
    target = "" if op["target_far"] is None else f", target FAR {op['target_far']:g}"

    def rate(name: str) -> str:
        promised = op[f"promised_{name}"]
        was = "not recorded" if promised is None else f"{promised:.3f}"
        return f"{name.upper()} promised {was}, achieved {op[name]:.3f}"

    return (
        f"operating point: threshold {op['threshold']:.4f} ({threshold_origin(record)}{target}); "
        f"{rate('far')}; {rate('frr')}"
    )
