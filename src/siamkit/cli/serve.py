"""``siamkit serve``: the REST service over a run (and a gallery), with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from siamkit.cli.options import err, fail


def serve(
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            help="A run directory, a `faces init` folder or an exported .onnx file; "
            "optional with --onnx."
        ),
    ] = None,
    gallery: Annotated[
        Path | None, typer.Option(help="Gallery directory (`siamkit gallery create`).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 = this machine only.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    onnx: Annotated[
        Path | None,
        typer.Option(
            help="Serve this exported ONNX model (alone, or with RUN_DIR: the run's calibration "
            "decides, and the file must hold the run's weights)."
        ),
    ] = None,
    insecure_local: Annotated[
        bool,
        typer.Option(help="Allow enroll/delete without SIAMKIT_API_KEY (loopback host only)."),
    ] = False,
    read_only: Annotated[bool, typer.Option(help="Refuse enroll and delete.")] = False,
    private_reads: Annotated[
        bool,
        typer.Option(help="Gallery reads (identify, items, similar) need SIAMKIT_API_KEY too."),
    ] = False,
    show_sources: Annotated[
        bool,
        typer.Option(help="GET /items/{id} shows key holders the full stored source path."),
    ] = False,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body, in MB.")] = 10.0,
    max_image_pixels: Annotated[
        int, typer.Option(help="Largest decoded image, width x height.")
    ] = 4096 * 4096,
    max_text_chars: Annotated[int, typer.Option(help="Longest text accepted.")] = 10_000,
    max_items: Annotated[int, typer.Option(help="Most inputs in one request.")] = 256,
    max_batch: Annotated[
        int,
        typer.Option(help="Most items per model call or gallery search (1 turns batching off)."),
    ] = 64,
    max_wait_ms: Annotated[
        float, typer.Option(help="Longest wait for a micro-batch to fill, in ms.")
    ] = 2.0,
    num_threads: Annotated[
        int | None, typer.Option(help="CPU threads for torch inference (default: torch's).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve embed, verify, identify, enroll, items, similar, healthz and metrics over HTTP.

    Write endpoints need the key in the SIAMKIT_API_KEY environment variable (clients send it
    as X-API-Key or Authorization: Bearer). OpenAPI docs at http://HOST:PORT/docs.
    """
    if run_dir is None and onnx is None:
        raise fail("nothing to serve: give a run folder or a .onnx file, or --onnx FILE")
    if not 1 <= port <= 65535:  # before anything loads: uvicorn would bind another port
        raise fail(f"--port must be a TCP port from 1 to 65535; got {port}")
    try:
        import uvicorn

        from siamkit.serving import API_KEY_ENV, ServiceConfig, load_service
    except ImportError as e:
        raise fail(f"{e}; install the serve extra: pip install 'siamkit[serve]'") from None
    try:
        config = ServiceConfig(
            host=host,
            api_key=os.environ.get(API_KEY_ENV) or None,
            insecure_local=insecure_local,
            read_only=read_only,
            require_key_for_reads=private_reads,
            show_sources=show_sources,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            max_image_pixels=max_image_pixels,
            max_text_chars=max_text_chars,
            max_items=max_items,
            max_batch=max_batch,
            max_wait_ms=max_wait_ms,
        )
        if num_threads is not None:
            if num_threads < 1:
                raise ValueError(f"--num-threads must be >= 1; got {num_threads}")
            import torch

            torch.set_num_threads(num_threads)
        app = load_service(run_dir, gallery, onnx, config)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    mode = (
        "read-only"
        if read_only
        else ("writes need the API key" if config.api_key else "insecure-local writes")
    )
    served = onnx if run_dir is None else run_dir
    err.print(f"serving {served} on http://{host}:{port} ({mode}); docs at /docs")
    uvicorn.run(app, host=host, port=port, log_level=log_level)
