"""``siamkit`` commands: train, evaluate, verify, embed, demo.

Each command only parses its options and calls the library; errors in user input are printed
as one readable message and exit with status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from siamkit import __version__
from siamkit.cli.calibrate import calibrate
from siamkit.cli.export import export
from siamkit.cli.gallery import gallery_app
from siamkit.cli.groups import add_plugin_commands
from siamkit.cli.options import (
    AsJson,
    Bootstrap,
    DataSource,
    Episodes,
    RunDir,
    Split,
    VerifyPairs,
    err,
    fail,
    out,
)
from siamkit.cli.progress import status
from siamkit.cli.serve import serve
from siamkit.cli.train import train
from siamkit.run.files import check_out_file

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Similarity learning with Siamese networks: train, evaluate, verify, embed.",
    pretty_exceptions_enable=False,
)
app.command("train")(train)


def _print_version(value: bool) -> None:
    if value:
        print(f"siamkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Similarity learning with Siamese networks: train, evaluate, verify, embed."""


@app.command()
def evaluate(
    run_dir: RunDir,
    data: DataSource = None,
    classes: Annotated[
        str | None,
        typer.Option(
            help="Classes to evaluate; default: the run's --eval-classes (required when the run "
            "has none)."
        ),
    ] = None,
    split: Split = "test",
    pairs: VerifyPairs = 20_000,
    bootstrap: Bootstrap = 200,
    episodes: Episodes = 600,
    checkpoint: Annotated[str, typer.Option(help="best | last")] = "best",
    as_json: AsJson = False,
) -> None:
    """Evaluate a trained run on classes it never saw: verification, retrieval, few-shot,
    classification, distances, open-set (tables, or one JSON object with --json).

    Classes it trained on are evaluated too, but written apart (evaluation-seen-*.json) and
    never as its held-out figures."""

    try:
        from siamkit.cli.tables import print_evaluation  # imports torch
        from siamkit.evaluation.run_eval import evaluate_run

        with status(f"evaluating {run_dir}", as_json):
            _, record = evaluate_run(
                run_dir, data, classes, split, checkpoint, pairs, bootstrap, episodes
            )
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(record))
    else:
        print_evaluation(record, str(run_dir), out)
    if not record["held_out"]:
        from rich.markup import escape

        err.print(
            "[yellow]warning:[/] "
            + escape(
                f"these figures include classes the run trained on "
                f"({', '.join(record['seen_in_training'])}), so they are not held-out figures; "
                f"written to {Path(run_dir) / record['file']} only, apart from the held-out "
                f"evaluation-{checkpoint}.json and metrics.json"
            ),
            highlight=False,
        )


@app.command()
def verify(
    run_dir: Annotated[
        Path,
        typer.Argument(help="A run directory, a `faces init` folder or an exported .onnx file."),
    ],
    input_a: Annotated[str, typer.Argument(help="First input (image file, vector or text).")],
    input_b: Annotated[str, typer.Argument(help="Second input.")],
    threshold: Annotated[
        float | None,
        typer.Option(help="Override the run's threshold (calibrated, or from training)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Distance between two inputs, and same/different at the run's threshold."""
    import numpy as np  # numpy and the model kinds are imported by the command, not the CLI

    from siamkit.run import DecisionRule, load_embedder

    if threshold is not None and not math.isfinite(threshold):
        raise fail(f"--threshold {threshold} is not a finite number; give a distance, e.g. 0.5")
    try:
        emb = load_embedder(run_dir)
        if threshold is not None and threshold < 0 and not emb.larger_is_closer:
            raise ValueError(
                f"--threshold {threshold} is negative, but {emb.distance} distances never are "
                "(so nothing would be the same); give a threshold >= 0"
            )
        xa, _ = emb.load([input_a])
        xb, _ = emb.load([input_b])
        if len(xa) != 1 or len(xb) != 1:
            raise ValueError("verify compares exactly one input with one input")
        pair = [*xa, *xb] if emb.kind == "text" else np.concatenate([xa, xb])
        e = emb.embed(pair)  # (2, D)
        d = float(emb.pair_distances(e[:1], e[1:])[0])
        rule = emb.decision_rule()
        if threshold is not None:
            rule = (
                rule.with_threshold(threshold)
                if rule is not None
                else DecisionRule(emb.distance, threshold, emb.larger_is_closer, None)
            )
        if rule is None:
            raise ValueError(
                "this run has no threshold (no validation split, no calibration); run "
                "`siamkit calibrate` or pass --threshold"
            )
    except (ValueError, ImportError) as err_:
        raise fail(str(err_)) from None
    same = bool(rule.same([d])[0])
    prob = rule.probability([d])
    probability = None if prob is None else float(prob[0])
    if as_json:
        result = {
            "distance": d,
            "threshold": rule.threshold,
            "same": same,
            "probability": probability,
            "metric": emb.distance,
        }
        print(json.dumps(result))
        return
    verdict = "same" if same else "different"
    shown = "" if probability is None else f", P(same) {probability:.3f}"
    out.print(f"{emb.distance} distance {d:.4f} (threshold {rule.threshold:.4f}{shown}): {verdict}")
    if emb.calibration is None and rule.source == "validation":
        err.print("note: no calibration in this run; `siamkit calibrate` adds a probability")


@app.command()
def embed(
    run_dir: Annotated[
        Path,
        typer.Argument(help="A run directory, a `faces init` folder or an exported .onnx file."),
    ],
    inputs: Annotated[list[str], typer.Argument(help="Image files/folders, or .npy/.csv vectors.")],
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to write the (N, D) .npy array.")
    ] = Path("embeddings.npy"),
) -> None:
    """Embed inputs; writes an (N, D) float32 .npy and, beside it, the inputs' names in order."""
    import numpy as np

    from siamkit.run import load_embedder, write_text

    names_path = out_path.with_suffix(".txt")
    try:
        check_out_file(out_path)
        check_out_file(names_path, "--out (its names file)")
        with status(f"embedding with {run_dir}"):
            model = load_embedder(run_dir)
            x, names = model.load(inputs)
            emb = np.asarray(model.embed(x), dtype=np.float32)  # (N, D)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    tmp = out_path.with_name(out_path.name + ".tmp.npy")
    try:
        np.save(tmp, emb)
        tmp.replace(out_path)
        write_text(names_path, "\n".join(names) + "\n")
    except OSError as e:
        raise fail(f"cannot write {out_path}: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    err.print(
        f"wrote {emb.shape[0]} embeddings of size {emb.shape[1]} to {out_path} (names in {names_path})"
    )


@app.command()
def demo(
    out_dir: Annotated[str, typer.Option("--out", help="Run directory.")] = "runs/demo",
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 10,
) -> None:
    """Train on digits 0-4, evaluate on the unseen digits 5-9, verify a few pairs (~1 minute)."""
    from siamkit.cli.demo import run_demo

    run_demo(out_dir, epochs, out)


app.command("calibrate")(calibrate)
app.command("init")(__import__("siamkit.cli.init", fromlist=["x"]).init)
app.command("export")(export)
app.command("serve")(serve)
app.add_typer(gallery_app, name="gallery")
app.command("dedup")(__import__("siamkit.cli.dedup", fromlist=["dedup"]).dedup)
add_plugin_commands(app)  # the applications' groups (faces, glyphs, ...) and commands (track)


@app.command()
def report(
    run_dir: RunDir,
    out_path: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    data: DataSource = None,
    classes: Annotated[
        str | None, typer.Option(help="Classes to report on; default: the run's --eval-classes.")
    ] = None,
    split: Split = "test",
    pairs: VerifyPairs = 20_000,
    bootstrap: Bootstrap = 200,
    episodes: Episodes = 600,
) -> None:
    """Write one self-contained HTML report: config, curves, ROC/DET, histograms, metrics,
    a 2-D projection and the worst errors (evaluates the run first, as `evaluate` does)."""

    try:
        check_out_file(out_path)
        from siamkit.evaluation.report import write_report  # imports torch

        with status(f"evaluating {run_dir} and drawing the report"):
            path = write_report(run_dir, out_path, data, classes, split, pairs, bootstrap, episodes)
    except ValueError as e:
        raise fail(str(e)) from None
    err.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point."""
    app()
