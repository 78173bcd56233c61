"""``siamkit`` commands: train, evaluate, verify, embed, demo.

Each command only parses its options and calls the library; errors in user input are printed
as one readable message and exit with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from siamkit.training.trainer import NonFiniteLossError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Similarity learning with Siamese networks: train, evaluate, verify, embed.",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="YAML/JSON file of settings; flags win.")
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="digits | fashion-mnist[:DIR] | image-folder:PATH | csv:PATH")
    ] = None,
    train_classes: Annotated[
        str | None, typer.Option(help="Classes to train on, e.g. 0-4.")
    ] = None,
    eval_classes: Annotated[
        str | None, typer.Option(help="Classes never trained on, e.g. 5-9.")
    ] = None,
    val_classes: Annotated[
        str | None,
        typer.Option(help="Training classes held out for validation (default: the last)."),
    ] = None,
    encoder: Annotated[str | None, typer.Option(help="conv | mlp")] = None,
    embedding_dim: Annotated[int | None, typer.Option(help="Embedding size.")] = None,
    loss: Annotated[str | None, typer.Option(help="contrastive | triplet")] = None,
    margin: Annotated[float | None, typer.Option(help="Loss margin m.")] = None,
    distance: Annotated[
        str | None, typer.Option(help="euclidean | squared_euclidean | cosine | manhattan")
    ] = None,
    sampling: Annotated[str | None, typer.Option(help="balanced (P×K batches) | pairs")] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    optimizer: Annotated[str | None, typer.Option(help="adam | adamw | sgd")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="none | cosine | step")] = None,
    image_size: Annotated[
        int | None, typer.Option(help="image-folder: resize to this size.")
    ] = None,
    on_mismatch: Annotated[
        str | None, typer.Option(help="image-folder: resize | reject odd-sized images.")
    ] = None,
    label_column: Annotated[str | None, typer.Option(help="csv: the label column.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda")] = None,
    num_threads: Annotated[int | None, typer.Option(help="CPU threads for torch.")] = None,
    out: Annotated[str | None, typer.Option(help="Run directory.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run in --out.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train a twin network; writes checkpoints, config and metrics to --out."""
    from siamkit.training import TrainConfig
    from siamkit.training import train as run_training

    flags: dict[str, Any] = {
        k: v
        for k, v in locals().items()
        if k not in {"config", "resume", "overwrite", "progress", "TrainConfig", "run_training"}
    }
    try:
        cfg = TrainConfig.from_sources(config, flags)
        result = run_training(
            cfg, resume=resume, overwrite=overwrite, progress=progress, console=err
        )
    except NonFiniteLossError as e:
        raise _fail(str(e), code=1) from None
    except ValueError as e:
        raise _fail(str(e)) from None
    best = result.best
    msg = f"done: best epoch {result.best_epoch}, run in {result.run_dir}"
    if best:
        msg += f" (validation ROC-AUC {best['roc_auc']:.4f}, threshold {best['threshold']:.4f})"
    err.print(msg)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `siamkit train`.")],
    data: Annotated[str | None, typer.Option(help="Data source; default: the run's.")] = None,
    classes: Annotated[
        str | None, typer.Option(help="Classes to evaluate; default: the run's --eval-classes.")
    ] = None,
    split: Annotated[
        str, typer.Option(help="train | test split where the source has them.")
    ] = "test",
    pairs: Annotated[int, typer.Option(help="Balanced pairs for verification metrics.")] = 20_000,
    checkpoint: Annotated[str, typer.Option(help="best | last")] = "best",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate a trained run on classes it never saw (a table, or JSON with --json)."""
    from siamkit.data import load_data, parse_classes
    from siamkit.evaluation import evaluate_model
    from siamkit.training import load_run
    from siamkit.training.checkpoint import write_json
    from siamkit.training.trainer import source_options

    try:
        if split not in ("train", "test"):
            raise ValueError(f"unknown split '{split}'; choose one of: test, train")
        if checkpoint not in ("best", "last"):
            raise ValueError(f"unknown checkpoint '{checkpoint}'; choose one of: best, last")
        run = load_run(run_dir, checkpoint)
        cfg = run.config
        source = data or cfg.data
        full = load_data(source, source_options(cfg), split=split)  # type: ignore[arg-type]
        cls = parse_classes(classes or cfg.eval_classes, full.class_names)
        trained = (
            set(parse_classes(cfg.train_classes, full.class_names)) if source == cfg.data else set()
        )
        subset = full.of_classes(cls)
        metrics = evaluate_model(run.model, subset, run.metrics.get("threshold"), num_pairs=pairs)
    except ValueError as e:
        raise _fail(str(e)) from None
    result = {
        **metrics.as_dict(),
        "data": source,
        "split": split,
        "classes": [full.class_names[c] for c in cls],
        "seen_in_training": sorted(full.class_names[c] for c in set(cls) & trained),
        "checkpoint": checkpoint,
    }
    write_json(Path(run_dir) / f"evaluation-{checkpoint}.json", result)
    if as_json:
        print(json.dumps(result))
        return
    class_list = ", ".join(full.class_names[c] for c in cls)
    table = Table(title=f"{run_dir}: {source} classes {class_list}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("precision_at_1", "roc_auc", "eer", "accuracy", "threshold"):
        table.add_row(key, f"{result[key]:.4f}")
    table.add_row("items / classes", f"{metrics.num_items} / {metrics.num_classes}")
    out.print(table)
    if result["seen_in_training"]:
        err.print(f"[yellow]warning:[/] classes {result['seen_in_training']} were trained on")


@app.command()
def verify(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `siamkit train`.")],
    input_a: Annotated[str, typer.Argument(help="First input (image file, or vector).")],
    input_b: Annotated[str, typer.Argument(help="Second input.")],
    threshold: Annotated[
        float | None, typer.Option(help="Override the run's calibrated threshold.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Distance between two inputs, and same/different at the run's threshold."""
    import torch

    from siamkit.data.inputs import load_inputs
    from siamkit.evaluation import embed_all
    from siamkit.training import load_run

    try:
        run = load_run(run_dir)
        xa, _ = load_inputs([input_a], run.spec, run.config.on_mismatch)
        xb, _ = load_inputs([input_b], run.spec, run.config.on_mismatch)
        if len(xa) != 1 or len(xb) != 1:
            raise ValueError("verify compares exactly one input with one input")
        emb = embed_all(run.model, torch.cat([xa, xb]))
        d = float(run.model.distance.pairwise(emb[:1], emb[1:])[0])
        thr = threshold if threshold is not None else run.metrics.get("threshold")
        if thr is None:
            raise ValueError(
                "this run has no calibrated threshold (no validation split); pass --threshold"
            )
    except ValueError as e:
        raise _fail(str(e)) from None
    closer = d >= thr if run.model.distance.larger_is_closer else d <= thr
    verdict = "same" if closer else "different"
    if as_json:
        print(
            json.dumps(
                {"distance": d, "threshold": thr, "same": closer, "metric": run.spec.distance}
            )
        )
    else:
        out.print(f"{run.spec.distance} distance {d:.4f} (threshold {thr:.4f}): {verdict}")


@app.command()
def embed(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `siamkit train`.")],
    inputs: Annotated[list[str], typer.Argument(help="Image files/folders, or .npy/.csv vectors.")],
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to write the (N, D) .npy array.")
    ] = Path("embeddings.npy"),
) -> None:
    """Embed inputs; writes an (N, D) float32 .npy and, beside it, the inputs' names in order."""
    import numpy as np

    from siamkit.data.inputs import load_inputs
    from siamkit.evaluation import embed_all
    from siamkit.training import load_run

    try:
        run = load_run(run_dir)
        x, names = load_inputs(inputs, run.spec, run.config.on_mismatch)
        emb = embed_all(run.model, x).numpy().astype(np.float32)
    except ValueError as e:
        raise _fail(str(e)) from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp.npy")
    np.save(tmp, emb)
    tmp.replace(out_path)
    names_path = out_path.with_suffix(".txt")
    names_path.write_text("\n".join(names) + "\n")
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


def main() -> None:
    """Console-script entry point."""
    app()
