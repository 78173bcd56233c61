"""``siamkit export``: a run's encoder as one ONNX file (fp32 or int8), checked before writing.

Registered in :mod:`siamkit.cli.main` with ``app.command("export")(export)``; this module
imports nothing from ``main`` so that import is not circular.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamkit.cli.options import AsJson, RunDir, err, fail, out
from siamkit.cli.progress import status
from siamkit.run.files import check_out_file


def export(
    run_dir: RunDir,
    out_path: Annotated[Path, typer.Option("--out", help="The .onnx file to write.")],
    format: Annotated[str, typer.Option("--format", help="onnx (the only format).")] = "onnx",
    quantize: Annotated[
        str | None,
        typer.Option(
            help="int8: static QDQ (CNN/MLP, calibrated on training items) or dynamic "
            "(transformers)."
        ),
    ] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset version (>= 13).")] = 17,
    max_metric_drop: Annotated[
        float | None,
        typer.Option(
            help="Fail, writing nothing, if MAP@R or ROC-AUC on the evaluation split drops "
            "by more (0.02 = 2 points)."
        ),
    ] = None,
    checkpoint: Annotated[str, typer.Option(help="best | last")] = "best",
    as_json: AsJson = False,
) -> None:
    """Export a run's encoder to ONNX with a dynamic batch axis; checks parity with PyTorch,
    and for int8 reports the MAP@R / ROC-AUC change on the run's evaluation classes."""
    from siamkit.export import ParityError, export_run
    from siamkit.export.run_export import MetricDropError

    if format != "onnx":
        raise fail(f"unknown format '{format}'; choose one of: onnx")
    if checkpoint not in ("best", "last"):
        raise fail(f"unknown checkpoint '{checkpoint}'; choose one of: best, last")
    try:
        check_out_file(out_path)
        with status(f"exporting {run_dir}", as_json):
            report = export_run(
                run_dir,
                out_path,
                quantize=quantize,
                opset=opset,
                max_metric_drop=max_metric_drop,
                checkpoint=checkpoint,
            )
    except (ParityError, MetricDropError) as e:
        raise fail(str(e), code=1) from None
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    p = report.parity
    out.print(
        f"parity with PyTorch on {p.num_items} held-out items: max abs diff "
        f"{p.max_abs_diff:.2e}, min cosine {p.min_cosine:.6f}"
    )
    if report.int8_parity is not None:
        q = report.int8_parity
        out.print(
            f"int8 vs PyTorch on the same items: max abs diff {q.max_abs_diff:.2e}, "
            f"min cosine {q.min_cosine:.6f}"
        )
    change = report.metric_change
    if change is not None:
        table = Table(
            title=f"evaluation split ({change.num_items} items, {change.num_pairs} pairs)"
        )
        for col in ("metric", "PyTorch", "ONNX", "change"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for name, ref, cand in (
            ("MAP@R", change.reference_map_at_r, change.candidate_map_at_r),
            ("ROC-AUC", change.reference_roc_auc, change.candidate_roc_auc),
        ):
            table.add_row(name, f"{ref:.4f}", f"{cand:.4f}", f"{cand - ref:+.4f}")
        out.print(table)
    meta = report.metadata
    thr = "none" if meta.threshold is None else f"{meta.threshold:.4f} ({meta.threshold_source})"
    err.print(
        f"wrote {report.path} ({report.size_bytes / 1e6:.2f} MB, {meta.quantization}, "
        f"{meta.kind} {meta.input_shape} -> {meta.embedding_dim}-d {meta.distance}, "
        f"threshold {thr}, fingerprint {meta.fingerprint})"
    )
