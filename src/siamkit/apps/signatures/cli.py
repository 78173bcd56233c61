"""``siamkit signatures ...``: render a synthetic signature set, calibrate a run against
forgeries, rate it on skilled and random forgeries.

Registered as the ``signatures`` command group by :mod:`siamkit.apps.signatures.plugin`.
Training, calibration, ``verify`` and the gallery are the ordinary commands on ``cedar:DIR``
(see docs/applications/signatures.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamkit.apps.signatures.handwriting_fonts import hands_from_files
from siamkit.cli.calibrate import show_calibration
from siamkit.cli.options import AsJson, RunDir, err, fail, out

signatures_app = typer.Typer(
    no_args_is_help=True,
    help="Signature verification: a synthetic set in CEDAR's layout, a threshold calibrated "
    "against forgeries, and error rates on skilled and random forgeries.",
)


@signatures_app.command()
def render(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the set into.")],
    writers: Annotated[int, typer.Option(help="Writers in all (CEDAR has 55).")] = 60,
    val_writers: Annotated[
        int, typer.Option(help="Validation writers (after the training ones).")
    ] = 10,
    eval_writers: Annotated[int, typer.Option(help="Evaluation writers (the last ones).")] = 20,
    genuine: Annotated[int, typer.Option(help="Genuine signatures per writer.")] = 24,
    forgeries: Annotated[int, typer.Option(help="Skilled forgeries per writer.")] = 24,
    forgers_per_writer: Annotated[int, typer.Option(help="Distinct forgers per writer.")] = 3,
    font: Annotated[
        list[Path] | None,
        typer.Option(help="A hand-style font file (repeat); default: the installed hands."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Fixes names, hands, styles and every image.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a set already in --out.")] = False,
) -> None:
    """Write synthetic signatures in CEDAR's layout (full_org/, full_forg/) plus writers.csv,
    forgers.csv and splits.json; evaluation writers write in hands no training writer used."""
    from siamkit.apps.signatures.dataset import render_signature_set

    try:
        hands = hands_from_files(font) if font else None
        info = render_signature_set(
            out_dir,
            writers=writers,
            val_writers=val_writers,
            eval_writers=eval_writers,
            genuine=genuine,
            forgeries=forgeries,
            forgers_per_writer=forgers_per_writer,
            hands=hands,
            seed=seed,
            overwrite=overwrite,
        )
    except ValueError as e:
        raise fail(str(e)) from None
    parts = ", ".join(f"{p} {r} ({len(info.fonts[p])} hands)" for p, r in info.parts.items())
    err.print(
        f"wrote {len(info.writers) * genuine} genuine signatures and {len(info.forgeries)} "
        f"forgeries to {out_dir}; writers: {parts}"
    )


@signatures_app.command()
def evaluate(
    run_dir: RunDir,
    data: Annotated[
        Path | None, typer.Option(help="CEDAR-layout folder; default: the run's.")
    ] = None,
    writers: Annotated[
        str | None, typer.Option(help="Writers to rate, e.g. 41-60; default: the run's eval.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Override the run's calibrated threshold.")
    ] = None,
    random_per_genuine: Annotated[
        int, typer.Option(help="Random forgeries drawn per genuine signature.")
    ] = 10,
    seed: Annotated[int, typer.Option(help="Seeds the random forgeries.")] = 0,
    as_json: AsJson = False,
) -> None:
    """EER, and FAR / FRR at the run's threshold, against skilled and random forgeries."""
    from siamkit.apps.signatures.evaluate import evaluate_signatures

    try:
        report = evaluate_signatures(run_dir, data, writers, threshold, random_per_genuine, seed)
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    table = Table(
        title=f"{run_dir}: writers {report.writers[0]}..{report.writers[-1]} "
        f"({len(report.writers)}), threshold {report.threshold:.4f} ({report.threshold_source})"
    )
    for name in ("forgeries", "EER", "FAR", "FRR", "ROC-AUC", "genuine pairs", "forgery pairs"):
        table.add_column(name, justify="left" if name == "forgeries" else "right")
    for label, r in (("skilled", report.skilled), ("random", report.random)):
        if r is None:
            table.add_row(label, "—", "—", "—", "—", "0", "0")
            continue
        table.add_row(
            label,
            f"{r.eer:.4f}",
            f"{r.far:.4f}",
            f"{r.frr:.4f}",
            f"{r.roc_auc:.4f}",
            str(r.genuine_pairs),
            str(r.forgery_pairs),
        )
    out.print(table)


@signatures_app.command()
def calibrate(
    run_dir: RunDir,
    data: Annotated[
        Path | None, typer.Option(help="CEDAR-layout folder; default: the run's.")
    ] = None,
    writers: Annotated[
        str | None,
        typer.Option(
            help="Training-side writers to calibrate on; default: the run's --val-classes."
        ),
    ] = None,
    against: Annotated[
        str, typer.Option(help="skilled | random | both: the forgeries the threshold must stop.")
    ] = "skilled",
    target_far: Annotated[
        float | None,
        typer.Option(help="Hold the false accept rate under this, e.g. 0.05 (else --objective)."),
    ] = None,
    objective: Annotated[
        str, typer.Option(help="accuracy | f1: what the threshold maximises without --target-far.")
    ] = "accuracy",
    method: Annotated[str, typer.Option(help="platt | isotonic: distance -> P(same).")] = "platt",
    test_fraction: Annotated[
        float, typer.Option(help="Share of the writers held out to test the threshold on.")
    ] = 0.5,
    random_per_genuine: Annotated[
        int, typer.Option(help="Random forgeries drawn per genuine signature.")
    ] = 10,
    seed: Annotated[int, typer.Option(help="Seeds the writer split and random forgeries.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Fit the run's threshold on validation writers' genuine pairs against forgeries; writes
    RUN/calibration.json (used by verify, the gallery and `signatures evaluate`)."""
    from siamkit.apps.signatures.calibration import calibrate_signatures

    try:
        cal = calibrate_signatures(
            run_dir,
            data,
            writers,
            against=against,
            target_far=target_far,
            objective=objective,
            method=method,
            test_fraction=test_fraction,
            random_per_genuine=random_per_genuine,
            seed=seed,
        )
    except ValueError as e:
        raise fail(str(e)) from None
    goal = f"FAR <= {cal.target_far}" if cal.target_far is not None else f"best {cal.objective}"
    title = f"{run_dir}: genuine vs {against} forgeries, threshold {cal.threshold:.4f} ({goal})"
    show_calibration(
        cal, run_dir, title, "writers", first_column="part", tar=False, as_json=as_json
    )
