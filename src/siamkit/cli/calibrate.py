"""``siamkit calibrate``: fit a run's decision threshold and P(same) map, test them, save them.

Registered in :mod:`siamkit.cli.main` with ``app.command("calibrate")(calibrate)``; this module
imports nothing from ``main`` so that import is not circular.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from siamkit.cli.options import AsJson, DataSource, RunDir, Split, err, fail, out
from siamkit.cli.progress import status
from siamkit.run.files import CALIBRATION


def calibrate(
    run_dir: RunDir,
    data: DataSource = None,
    classes: Annotated[
        str | None,
        typer.Option(help="Classes to calibrate on; default: the run's training classes."),
    ] = None,
    split: Split = "train",
    target_far: Annotated[
        float | None,
        typer.Option(help="Hold the false accept rate under this, e.g. 0.01 (else --objective)."),
    ] = None,
    objective: Annotated[
        str, typer.Option(help="accuracy | f1: what the threshold maximises without --target-far.")
    ] = "accuracy",
    method: Annotated[
        str, typer.Option(help="platt | isotonic: the distance -> P(same) map.")
    ] = "platt",
    pairs: Annotated[int, typer.Option(help="Balanced pairs drawn in each part.")] = 20_000,
    test_fraction: Annotated[
        float, typer.Option(help="Share of the classes held out to test the threshold on.")
    ] = 0.5,
    seed: Annotated[int, typer.Option(help="Seeds the class split and the pairs.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Calibrate a run's threshold (and P(same)); writes RUN/calibration.json."""
    from siamkit.evaluation.calibrated_run import calibrate_run

    if classes is None and _has_operating_point(run_dir):
        err.print(
            "[yellow]warning:[/] this run's final model trained on every training class, so a "
            "calibration on them is optimistic; it replaces the operating point the refit "
            "fitted on held-out classes. Name classes it never trained on with --classes "
            "(and --data) to keep the promise honest"
        )
    try:
        with status(f"calibrating {run_dir}", as_json):
            cal = calibrate_run(
                run_dir,
                data,
                classes,
                split=split,
                target_far=target_far,
                objective=objective,
                method=method,
                num_pairs=pairs,
                test_fraction=test_fraction,
                seed=seed,
            )
    except ValueError as e:
        raise fail(str(e)) from None
    rule = "<=" if not cal.larger_is_closer else ">="
    goal = f"FAR <= {cal.target_far}" if cal.target_far is not None else f"best {cal.objective}"
    title = f"{run_dir}: same if {cal.distance} {rule} {cal.threshold:.4f} ({goal})"
    show_calibration(cal, run_dir, title, as_json=as_json)


def _has_operating_point(run_dir: Path) -> bool:
    """Whether the run's training fitted an operating point (a refit run); False if its
    ``metrics.json`` is missing or unreadable (calibrate then says what is wrong)."""
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(metrics, dict) and "operating_point" in metrics


def show_calibration(
    cal: Any,
    run_dir: Path,
    title: str,
    unit: str = "classes",
    first_column: str = "pairs",
    tar: bool = True,
    as_json: bool = False,
) -> None:
    """Report a fitted ``Calibration``: a warning if it used evaluation classes, then its JSON
    or a table of the calibration (and test) part's rates, and the file it was saved to.

    Args:
        cal: A :class:`siamkit.evaluation.calibrated_run.Calibration`.
        unit: What the classes are called in the messages (``classes``, ``writers``).
        first_column: The table's first header; ``tar``: whether to show the TAR column.
    """
    src = cal.source
    if src is not None and src.eval_classes_used:
        err.print(
            f"[yellow]warning:[/] calibrated on the run's evaluation {unit} "
            f"{src.eval_classes_used}; later evaluation on them is no longer unseen"
        )
    if as_json:
        print(json.dumps(cal.to_dict()))
        return
    table = Table(title=title)
    names = (first_column, unit, "FAR", "FRR", *(("TAR",) if tar else ()), "accuracy")
    for name in names:
        table.add_column(name, justify="left" if name in (first_column, unit) else "right")
    parts = [("calibration", cal.calibration_rates, src.calibration_classes if src else [])]
    if cal.test_rates is not None:
        parts.append(("test", cal.test_rates, src.test_classes if src else []))
    for label, rates, classes in parts:
        shown = (rates.far, rates.frr, *((rates.tar,) if tar else ()), rates.accuracy)
        table.add_row(label, ", ".join(classes), *(f"{v:.4f}" for v in shown))
    out.print(table)
    err.print(f"wrote {Path(run_dir) / CALIBRATION} (probabilities: {cal.method})")
