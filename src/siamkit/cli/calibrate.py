"""``siamkit calibrate``: fit a run's decision threshold and P(same) map, test them, save them.

Registered in :mod:`siamkit.cli.main` with ``app.command("calibrate")(calibrate)``; this module
imports nothing from ``main`` so that import is not circular.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamkit.cli.options import AsJson, DataSource, RunDir, Split, err, fail, out


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
    from siamkit.evaluation.calibrated_run import FILENAME, calibrate_run

    try:
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
    src = cal.source
    if src is not None and src.eval_classes_used:
        err.print(
            f"[yellow]warning:[/] calibrated on the run's evaluation classes "
            f"{src.eval_classes_used}; later evaluation on them is no longer unseen"
        )
    if as_json:
        print(json.dumps(cal.to_dict()))
        return
    rule = "<=" if not cal.larger_is_closer else ">="
    goal = f"FAR <= {cal.target_far}" if cal.target_far is not None else f"best {cal.objective}"
    table = Table(title=f"{run_dir}: same if {cal.distance} {rule} {cal.threshold:.4f} ({goal})")
    for name in ("pairs", "classes", "FAR", "FRR", "TAR", "accuracy"):
        table.add_column(name, justify="left" if name in ("pairs", "classes") else "right")
    parts = [("calibration", cal.calibration_rates, src.calibration_classes if src else [])]
    if cal.test_rates is not None:
        parts.append(("test", cal.test_rates, src.test_classes if src else []))
    for label, rates, names in parts:
        table.add_row(
            label,
            ", ".join(names),
            f"{rates.far:.4f}",
            f"{rates.frr:.4f}",
            f"{rates.tar:.4f}",
            f"{rates.accuracy:.4f}",
        )
    out.print(table)
    err.print(f"wrote {Path(run_dir) / FILENAME} (probabilities: {cal.method})")
