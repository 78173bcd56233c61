"""``siamkit track`` (follow one object through a video or a folder of frames) and
``siamkit tracker train|eval|generate`` (the SiamFC recipe of docs/applications/tracking.md).

Registered as the ``track`` command and the ``tracker`` group by
:mod:`siamkit.apps.tracking.plugin`; this module imports nothing from ``main``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamkit.cli.options import err, fail, out

DEFAULT_RUN = "runs/tracker"

tracker_app = typer.Typer(
    no_args_is_help=True,
    help="SiamFC tracker: train on generated sequences, evaluate (OTB AUC, precision@20), "
    "write sequences in the OTB layout.",
)

Threads = Annotated[
    int,
    typer.Option(help="torch CPU threads (1 is fastest for this small network on a busy machine)."),
]


def track(
    source: Annotated[
        Path,
        typer.Argument(help="A video file, a folder of frames, or an OTB sequence folder."),
    ],
    init: Annotated[
        str | None,
        typer.Option(
            help="The target on the first frame: x,y,w,h (pixels, top-left corner). Default "
            "for an OTB sequence: its first ground-truth box."
        ),
    ] = None,
    out_path: Annotated[
        Path,
        typer.Option(
            "--out", help="boxes.csv (frame,x,y,w,h) or a video (.mp4/.avi) with the box drawn."
        ),
    ] = Path("boxes.csv"),
    model: Annotated[
        str, typer.Option(help="A run folder from `siamkit tracker train` or a .safetensors file.")
    ] = DEFAULT_RUN,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames.")] = None,
    threads: Threads = 1,
) -> None:
    """Follow one object from its first-frame box with a SiamFC tracker."""
    import torch

    from siamkit.apps.tracking.boxes import parse_box  # numpy and torch, with the command
    from siamkit.apps.tracking.checkpoint import load_tracker
    from siamkit.apps.tracking.metrics import score_sequence
    from siamkit.apps.tracking.stream import (
        BOX_SUFFIXES,
        open_frames,
        track_stream,
        write_boxes_csv,
    )
    from siamkit.apps.tracking.tracker import SiamFCTracker
    from siamkit.apps.tracking.video import VIDEO_SUFFIXES

    torch.set_num_threads(threads)
    suffix = out_path.suffix.lower()
    if suffix not in BOX_SUFFIXES + VIDEO_SUFFIXES:
        raise fail(
            f"--out must end in .csv or a video suffix ({', '.join(VIDEO_SUFFIXES)}); "
            f"got {out_path}"
        )
    try:
        loaded = load_tracker(model)
        frames = open_frames(source, max_frames)
        if init is not None:
            first = parse_box(init)
        elif frames.groundtruth is not None:
            first = tuple(float(v) for v in frames.groundtruth[0])  # type: ignore[assignment]
        else:
            raise ValueError(
                f"--init x,y,w,h is needed: {source} has no ground truth to start from"
            )
        out_path.parent.mkdir(parents=True, exist_ok=True)
        import numpy as np

        result = track_stream(
            SiamFCTracker(loaded.net, loaded.params),
            frames,
            np.array(first),
            out_path if suffix in VIDEO_SUFFIXES else None,
        )
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    if suffix in BOX_SUFFIXES:
        write_boxes_csv(out_path, result.boxes)
    message = (
        f"tracked {len(result.boxes)} frames at {result.fps:.1f} frames/s "
        f"({threads} threads, tracker time only); wrote {out_path}"
    )
    truth = frames.groundtruth
    if truth is not None and len(truth) == len(result.boxes):
        score = score_sequence(result.boxes, truth)
        message += (
            f"; against the ground truth: success AUC {score.auc:.3f}, "
            f"precision@20 {score.precision:.3f}"
        )
    out.print(message, highlight=False)


@tracker_app.command("train")
def train(
    out_dir: Annotated[str, typer.Option("--out", help="Run folder to write.")] = DEFAULT_RUN,
    minutes: Annotated[float, typer.Option(help="Wall-clock cap (validation included).")] = 20.0,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 900,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 16,
    train_sequences: Annotated[int, typer.Option(help="Generated training sequences.")] = 1000,
    val_sequences: Annotated[int, typer.Option(help="Generated validation sequences.")] = 16,
    val_every: Annotated[int, typer.Option(help="Steps between validations.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Threads = 1,
) -> None:
    """Train a SiamFC tracker on generated sequences (training side only); the checkpoint and
    the cosine-window weight are chosen on validation sequences."""
    from pydantic import ValidationError

    from siamkit.apps.tracking.training import TrackerTrainConfig, train_tracker

    values = dict(
        out=out_dir, minutes=minutes, steps=steps, batch_size=batch_size,
        train_sequences=train_sequences, val_sequences=val_sequences, val_every=val_every,
        seed=seed, threads=threads,
    )  # fmt: skip
    try:
        cfg = TrackerTrainConfig.model_validate(values)
        train_tracker(cfg, log=lambda line: err.print(line, highlight=False))
    except ValidationError as e:
        raise fail(f"bad tracker training configuration: {e}") from None
    except ValueError as e:
        raise fail(str(e)) from None


@tracker_app.command("eval")
def evaluate(
    run: Annotated[str, typer.Argument(help="A run folder or .safetensors file.")] = DEFAULT_RUN,
    otb: Annotated[
        Path | None,
        typer.Option(
            help="Evaluate on OTB-layout sequences in this folder instead of generated ones."
        ),
    ] = None,
    sequences: Annotated[int, typer.Option(help="Held-out generated sequences.")] = 30,
    length: Annotated[int, typer.Option(help="Frames per generated sequence.")] = 100,
    baselines: Annotated[
        bool, typer.Option(help="Also run the stay and untrained baselines.")
    ] = True,
    threads: Threads = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON.")
    ] = None,
) -> None:
    """One-pass evaluation: OTB success AUC, precision at 20 px and frames/s, beside baselines."""
    from siamkit.apps.tracking.heldout import compare_trackers, evaluation_sequences
    from siamkit.apps.tracking.otb import load_otb
    from siamkit.apps.tracking.sequence import TrackingSequence

    try:
        seqs: list[TrackingSequence] = list(
            load_otb(otb) if otb is not None else evaluation_sequences(sequences, length)
        )
        rows = compare_trackers(run, seqs, threads, baselines)
    except ValueError as e:
        raise fail(str(e)) from None
    frames = sum(len(s) for s in seqs)
    table = Table(title=f"OPE on {len(seqs)} sequences, {frames} frames ({threads} threads)")
    for col in ("tracker", "success AUC", "precision@20", "mean IoU", "frames/s"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.name,
            f"{r.ope.auc:.3f}",
            f"{r.ope.precision:.3f}",
            f"{r.ope.mean_iou:.3f}",
            f"{r.fps:.1f}",
        )
    out.print(table)
    if json_out is not None:
        payload = {
            "run": str(run),
            "sequences": len(seqs),
            "frames": frames,
            "threads": threads,
            "source": str(otb) if otb is not None else f"generated eval side, length {length}",
            "results": [
                {
                    "tracker": r.name,
                    "auc": r.ope.auc,
                    "precision20": r.ope.precision,
                    "mean_iou": r.ope.mean_iou,
                    "fps": r.fps,
                    "success_curve": [round(float(v), 4) for v in r.ope.success],
                }
                for r in rows
            ],
        }
        json_out.write_text(json.dumps(payload, indent=2) + "\n")
        err.print(f"wrote {json_out}")


@tracker_app.command("generate")
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the sequences into.")],
    side: Annotated[
        str, typer.Option(help="train | val | eval: which objects and backgrounds.")
    ] = "eval",
    count: Annotated[int, typer.Option(help="Sequences.")] = 5,
    length: Annotated[int, typer.Option(help="Frames per sequence.")] = 100,
    seed: Annotated[int | None, typer.Option(help="Seed; default the evaluation seed.")] = None,
) -> None:
    """Write generated sequences in the OTB layout (SEQUENCE/img/0001.jpg, groundtruth_rect.txt)."""
    from siamkit.apps.tracking.generator import GeneratorConfig, generate_sequences
    from siamkit.apps.tracking.heldout import EVAL_SEED
    from siamkit.apps.tracking.otb import write_otb
    from siamkit.apps.tracking.sources import fashion_objects, opencv_backgrounds

    if side not in ("train", "val", "eval"):
        raise fail(f"--side takes train, val or eval; got {side!r}")
    gen = GeneratorConfig(length=length)
    try:
        backgrounds = opencv_backgrounds(side, gen.frame_height, gen.frame_width)  # type: ignore[arg-type]
        objects = fashion_objects(side)  # type: ignore[arg-type]
    except ValueError as e:
        raise fail(str(e)) from None
    seqs = generate_sequences(
        objects, backgrounds, count, EVAL_SEED if seed is None else seed, gen, side
    )
    for s in seqs:
        write_otb(out_dir / s.name, [s.frame(t) for t in range(len(s))], s.boxes)
    out.print(f"wrote {count} sequences of {length} frames to {out_dir}")
