"""``siamkit`` commands: train, evaluate, verify, embed, demo.

Each command only parses its options and calls the library; errors in user input are printed
as one readable message and exit with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from siamkit.cli.calibrate import calibrate
from siamkit.cli.export import export
from siamkit.cli.gallery import gallery_app
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
    parse_loss_options,
)
from siamkit.cli.serve import serve
from siamkit.training.trainer import NonFiniteLossError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Similarity learning with Siamese networks: train, evaluate, verify, embed.",
    pretty_exceptions_enable=False,
)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="YAML/JSON file of settings; flags win.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="digits | fashion-mnist[:DIR] | image-folder:PATH | csv:PATH | text-pairs:FILE | text-labelled:FILE | wordnet[:DIR] | omniglot:PATH[,SET] | cedar:DIR | cedar-hands:DIR"
        ),
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
    val_fraction: Annotated[
        float | None,
        typer.Option(help="Share of the other training classes' items held out (default 0.1)."),
    ] = None,
    encoder: Annotated[
        str | None, typer.Option(help="conv | mlp | minilm | hf:PATH | text_cnn")
    ] = None,
    embedding_dim: Annotated[int | None, typer.Option(help="Embedding size.")] = None,
    loss: Annotated[
        str | None,
        typer.Option(
            help="contrastive | triplet | online_contrastive | batch_hard_triplet | nt_xent | multiple_negatives_ranking | multiple_negatives_symmetric_ranking | multi_similarity | arcface | koch"
        ),
    ] = None,
    margin: Annotated[
        float | None, typer.Option(help="Loss margin m (default: the loss's own).")
    ] = None,
    reduction: Annotated[
        str | None,
        typer.Option(help="mean | mean_nonzero | sum: how per-pair terms become the loss."),
    ] = None,
    miner: Annotated[
        str | None,
        typer.Option(
            help="hard_pairs (contrastive) | batch_hard | semi_hard | distance_weighted (triplet)"
        ),
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option(help="Softmax temperature (nt_xent 0.1, multiple_negatives_* 0.05)."),
    ] = None,
    loss_option: Annotated[
        list[str] | None,
        typer.Option(
            help="Another numeric option of the loss, KEY=VALUE (repeat it), e.g. "
            "--loss-option beta=20 for multi_similarity."
        ),
    ] = None,
    uniformity: Annotated[
        float | None,
        typer.Option(help="Weight of the uniformity regulariser added to the loss (0 = off)."),
    ] = None,
    rotation: Annotated[
        float | None,
        typer.Option(help="Weight of the rotation-prediction task (images turned k·90°; 0 = off)."),
    ] = None,
    projection: Annotated[
        int | None,
        typer.Option(
            help="Hidden width of a training-only projection head the loss sees (0 = off)."
        ),
    ] = None,
    augment: Annotated[
        bool | None,
        typer.Option(
            "--augment/--no-augment",
            help="Random crop, flip, rotation, noise, brightness/contrast.",
        ),
    ] = None,
    views: Annotated[
        int | None,
        typer.Option(help="2: each item enters a batch as two augmented views sharing its label."),
    ] = None,
    self_supervised: Annotated[
        bool | None,
        typer.Option(
            "--self-supervised",
            help="No labels: two augmented views of an item are the positives (use --loss nt_xent).",
        ),
    ] = None,
    distance: Annotated[
        str | None, typer.Option(help="euclidean | squared_euclidean | cosine | manhattan")
    ] = None,
    sampling: Annotated[
        str | None,
        typer.Option(help="balanced (P×K batches) | pairs | random (plain random batches)"),
    ] = None,
    class_weighting: Annotated[
        str | None,
        typer.Option(
            help="none | inverse_frequency (with --sampling random: draw items ∝ 1/class size)."
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    classes_per_batch: Annotated[
        int | None, typer.Option(help="P of P×K batches (default: min(classes, batch/2)).")
    ] = None,
    grad_accum: Annotated[
        int | None, typer.Option(help="Batches whose gradients add up before one step.")
    ] = None,
    nproc: Annotated[
        int | None,
        typer.Option(
            help="Train on N processes of this machine: runs `torchrun --standalone --nproc-per-node N -m siamkit train ...` (docs/distributed.md)."
        ),
    ] = None,
    gather_negatives: Annotated[
        bool | None,
        typer.Option(
            "--gather-negatives/--no-gather-negatives",
            help="Under torchrun: the loss sees every process's embeddings (default) or only its own.",
        ),
    ] = None,
    max_length: Annotated[int | None, typer.Option(help="Text: tokens kept per text.")] = None,
    optimizer: Annotated[str | None, typer.Option(help="adam | adamw | sgd")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    max_grad_norm: Annotated[
        float | None,
        typer.Option(help="Clip the gradients' global norm to this before each step (off)."),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(help="Every dropout layer's probability while training (the model's own)."),
    ] = None,
    ema: Annotated[
        float | None,
        typer.Option(
            help="Keep a moving average of the weights, this decay per step (e.g. 0.998); "
            "validation and the saved model use it (off)."
        ),
    ] = None,
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
    if nproc is not None and nproc > 1:
        from siamkit.cli.distributed import exec_torchrun

        try:
            exec_torchrun(nproc)
        except ValueError as e:
            raise fail(str(e)) from None
    from siamkit.training import TrainConfig
    from siamkit.training import train as run_training

    flags: dict[str, Any] = {
        k: v
        for k, v in locals().items()
        if k
        not in {"config", "resume", "overwrite", "progress", "nproc", "TrainConfig", "run_training"}
    }
    try:
        flags["loss_options"] = parse_loss_options(flags.pop("loss_option"))
        cfg = TrainConfig.from_sources(config, flags)
        result = run_training(
            cfg, resume=resume, overwrite=overwrite, progress=progress, console=err
        )
    except NonFiniteLossError as e:
        raise fail(str(e), code=1) from None
    except ValueError as e:
        raise fail(str(e)) from None
    from siamkit.training.distributed import is_main

    if not is_main():  # under torchrun: rank 0 reports
        return
    best = result.best
    msg = f"done: best epoch {result.best_epoch}, run in {result.run_dir}"
    if best:
        msg += f" (validation ROC-AUC {best['roc_auc']:.4f}, threshold {best['threshold']:.4f})"
    err.print(msg)


@app.command()
def evaluate(
    run_dir: RunDir,
    data: DataSource = None,
    classes: Annotated[
        str | None, typer.Option(help="Classes to evaluate; default: the run's --eval-classes.")
    ] = None,
    split: Split = "test",
    pairs: VerifyPairs = 20_000,
    bootstrap: Bootstrap = 200,
    episodes: Episodes = 600,
    checkpoint: Annotated[str, typer.Option(help="best | last")] = "best",
    as_json: AsJson = False,
) -> None:
    """Evaluate a trained run on classes it never saw: verification, retrieval, few-shot,
    classification, distances, open-set (tables, or one JSON object with --json)."""
    from siamkit.cli.tables import print_evaluation
    from siamkit.evaluation.run_eval import evaluate_run

    try:
        _, record = evaluate_run(
            run_dir, data, classes, split, checkpoint, pairs, bootstrap, episodes
        )
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(record))
        return
    print_evaluation(record, str(run_dir), out)
    if record["seen_in_training"]:
        err.print(f"[yellow]warning:[/] classes {record['seen_in_training']} were trained on")


@app.command()
def verify(
    run_dir: RunDir,
    input_a: Annotated[str, typer.Argument(help="First input (image file, or vector).")],
    input_b: Annotated[str, typer.Argument(help="Second input.")],
    threshold: Annotated[
        float | None, typer.Option(help="Override the run's calibrated threshold.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Distance between two inputs, and same/different at the run's threshold."""
    from siamkit.apps.face_run import is_face_run

    if is_face_run(run_dir):  # `siamkit faces init` folder: dlib's face encoder
        from siamkit.cli.faces import verify_faces

        return verify_faces(run_dir, input_a, input_b, threshold, as_json)
    import torch

    from siamkit.data.inputs import load_inputs
    from siamkit.evaluation import embed_all
    from siamkit.evaluation.calibrated_run import Calibration
    from siamkit.training import load_run

    try:
        run = load_run(run_dir)
        xa, _ = load_inputs([input_a], run.spec, run.config.on_mismatch)
        xb, _ = load_inputs([input_b], run.spec, run.config.on_mismatch)
        if len(xa) != 1 or len(xb) != 1:
            raise ValueError("verify compares exactly one input with one input")
        emb = embed_all(run.model, torch.cat([xa, xb]))
        d = float(run.model.distance.pairwise(emb[:1], emb[1:])[0])
        calibration = Calibration.load(run_dir)
        thr = threshold
        if thr is None:
            thr = calibration.threshold if calibration else run.metrics.get("threshold")
        if thr is None:
            raise ValueError(
                "this run has no threshold (no validation split, no calibration); run "
                "`siamkit calibrate` or pass --threshold"
            )
    except ValueError as e:
        raise fail(str(e)) from None
    closer = d >= thr if run.model.distance.larger_is_closer else d <= thr
    probability = float(calibration.probability_map.predict([d])[0]) if calibration else None
    if as_json:
        result = {
            "distance": d,
            "threshold": thr,
            "same": closer,
            "probability": probability,
            "metric": run.spec.distance,
        }
        print(json.dumps(result))
        return
    verdict = "same" if closer else "different"
    prob = "" if probability is None else f", P(same) {probability:.3f}"
    out.print(f"{run.spec.distance} distance {d:.4f} (threshold {thr:.4f}{prob}): {verdict}")
    if calibration is None:
        err.print("note: no calibration in this run; `siamkit calibrate` adds a probability")


@app.command()
def embed(
    run_dir: RunDir,
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
        raise fail(str(e)) from None
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


app.command("calibrate")(calibrate)
app.command("export")(export)
app.command("serve")(serve)
app.add_typer(gallery_app, name="gallery")
app.command("dedup")(__import__("siamkit.cli.dedup", fromlist=["dedup"]).dedup)
app.add_typer(__import__("siamkit.cli.faces", fromlist=["x"]).faces_app, name="faces")
app.add_typer(__import__("siamkit.cli.glyphs", fromlist=["x"]).glyphs_app, name="glyphs")
app.command("track")(__import__("siamkit.cli.track", fromlist=["x"]).track)
app.add_typer(__import__("siamkit.cli.track", fromlist=["x"]).tracker_app, name="tracker")
app.add_typer(
    __import__("siamkit.cli.signatures", fromlist=["x"]).signatures_app, name="signatures"
)
app.add_typer(__import__("siamkit.cli.recommend", fromlist=["x"]).recommend_app, name="recommend")


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
    from siamkit.evaluation.report import write_report

    try:
        path = write_report(run_dir, out_path, data, classes, split, pairs, bootstrap, episodes)
    except ValueError as e:
        raise fail(str(e)) from None
    err.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point."""
    app()
