"""``siamkit faces ...``: dlib's pretrained face encoder as a siamkit model, LFW's protocol.

Registered as the ``faces`` command group by :mod:`siamkit.apps.faces.plugin`;
``siamkit verify``, ``embed``, ``serve`` and the gallery take a face-encoder folder through
:func:`siamkit.run.load_embedder` (kind ``face``). This module imports nothing from ``main``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from siamkit.apps.faces.run import FaceRunConfig, write_face_run
from siamkit.cli.options import AsJson, err, fail, out

faces_app = typer.Typer(
    no_args_is_help=True,
    help="Face verification with dlib's pretrained encoder (pip install 'siamkit\\[faces]').",
)


def _embedder(run_dir: Path) -> Any:
    """The model in ``run_dir``, by the kind it records: a ``faces init`` folder, a trained
    image run or an exported ONNX file."""
    from siamkit.run import load_embedder  # the model kinds come with the command

    return load_embedder(run_dir)


@faces_app.command()
def init(
    run_dir: Annotated[Path, typer.Argument(help="The folder to write config.json in.")],
    threshold: Annotated[
        float, typer.Option(help="Same person if the euclidean distance is at most this.")
    ] = 0.6,
    upsample: Annotated[
        int, typer.Option(help="Detector upsampling: 1 finds faces down to ~40 px, 0 ~80 px.")
    ] = 1,
    detect_side: Annotated[
        int, typer.Option(help="Longest side the detector sees (larger photos are shrunk).")
    ] = 1024,
    fallback: Annotated[
        float | None,
        typer.Option(
            help="When no face is found, use the centred square of this fraction of the "
            "shorter side (for photos cropped around one face, e.g. 0.5 for LFW); default: error."
        ),
    ] = None,
) -> None:
    """Make RUN_DIR stand for dlib's face encoder in `gallery create --model`, `verify`, `serve`."""

    from siamkit.apps.faces.embedder import FaceEmbedder  # numpy and dlib, with the command

    try:
        config = FaceRunConfig(threshold, upsample, detect_side, fallback).check()
        embedder = FaceEmbedder(config)  # fails now, not later, if the extra is missing
        path = write_face_run(run_dir, config)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    err.print(
        f"wrote {path}: dlib face encoder {embedder.fingerprint} (128-d, euclidean, threshold "
        f"{threshold}); use it as a run directory, e.g. `siamkit gallery create G --model "
        f"{run_dir}`"
    )


@faces_app.command()
def views(
    out_dir: Annotated[Path, typer.Argument(help="Where to write lfw/ and pairs.txt.")],
    people: Annotated[int, typer.Option(help="Source faces (astronaut + lfw_subset crops).")] = 101,
    images: Annotated[int, typer.Option(help="Augmented views per person.")] = 4,
    folds: Annotated[int, typer.Option(help="Person-disjoint folds.")] = 10,
    per_fold: Annotated[
        int | None, typer.Option(help="Pairs of each kind per fold (default: the most possible).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of augmentations and pairs.")] = 0,
) -> None:
    """Build an offline LFW-layout set from scikit-image's bundled face photos, augmented."""
    from siamkit.apps.faces.views import build_face_views

    try:
        built = build_face_views(out_dir, people, images, folds, per_fold, seed=seed)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    p = built.protocol
    err.print(
        f"wrote {len(built.people)} people x {images} images to {built.lfw_dir} and "
        f"{p.folds} folds x {p.per_fold} same + {p.per_fold} different pairs to {built.pairs_file}"
    )


@faces_app.command()
def lfw(
    run_dir: Annotated[Path, typer.Argument(help="A `faces init` folder or an image run.")],
    lfw_dir: Annotated[Path, typer.Argument(help="LFW's folder: one subfolder per person.")],
    pairs: Annotated[Path, typer.Argument(help="LFW's pairs.txt (10 folds x 300 x 2).")],
    as_json: AsJson = False,
) -> None:
    """LFW's 10-fold verification accuracy (threshold from 9 folds, scored on the 10th)."""
    import numpy as np

    from siamkit.apps.faces.lfw import evaluate_lfw, read_pairs
    from siamkit.run.decision import accepts

    try:
        protocol = read_pairs(pairs)
        embedder = _embedder(run_dir)
        progress = _progress if err.is_terminal else None
        result = evaluate_lfw(embedder, lfw_dir, protocol, progress=progress)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    acc, ver = result.accuracy, result.verification
    rule = embedder.decision_rule()
    threshold = None if rule is None else rule.threshold
    at_threshold = None  # dlib's fixed 0.6, or a trained run's calibrated threshold
    if threshold is not None and not embedder.larger_is_closer:
        accepted = accepts(result.distances, threshold)
        at_threshold = float(np.mean(accepted == protocol.same))
    record = {
        "accuracy_mean": acc.mean,
        "accuracy_std": acc.std,
        "accuracy_standard_error": acc.standard_error,
        "accuracy_per_fold": list(acc.per_fold),
        "thresholds": list(acc.thresholds),
        "roc_auc": ver.roc_auc,
        "eer": ver.eer,
        "threshold": threshold,
        "accuracy_at_threshold": at_threshold,
        "pairs": len(result.distances),
        "images": result.images,
        "no_face_fallbacks": getattr(embedder, "fallbacks", 0),
    }
    if as_json:
        print(json.dumps(record))
        return
    out.print(
        f"{len(acc.per_fold)}-fold accuracy {acc.mean:.4f} ± {acc.standard_error:.4f} (standard "
        f"error; std {acc.std:.4f}) over {record['pairs']} pairs of {result.images} images",
        highlight=False,
    )
    out.print(
        f"pooled pairs: ROC-AUC {ver.roc_auc:.4f}, EER {ver.eer:.4f}; thresholds chosen "
        f"{min(acc.thresholds):.3f}-{max(acc.thresholds):.3f}",
        highlight=False,
    )
    if at_threshold is not None:
        out.print(
            f"at the model's own threshold {threshold:.3f} (no fold fitting): accuracy "
            f"{at_threshold:.4f}",
            highlight=False,
        )
    if record["no_face_fallbacks"]:
        err.print(f"note: {record['no_face_fallbacks']} images had no detected face (fallback box)")


def _progress(done: int, total: int) -> None:
    err.print(f"embedded {done}/{total} images", end="\r" if done < total else "\n")
