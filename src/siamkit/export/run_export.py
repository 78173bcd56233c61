"""Exporting a run directory to one ONNX file, checked before it is written.

Steps: trace the embedding graph (fp32), check it against PyTorch on a held-out batch of the
run's evaluation classes (fail below cosine 0.9999), optionally quantize it to int8 (static QDQ
calibrated on the run's *training* items, or dynamic for transformers) and re-evaluate MAP@R and
ROC-AUC on the run's evaluation split, write the metadata (:class:`~siamkit.runtime.ModelMetadata`)
and only then move the file to ``out``. Any failed check leaves ``out`` untouched.

Example:
    >>> report = export_run("runs/digits", "digits.onnx", max_metric_drop=0.02)  # or int8
    >>> change = report.metric_change  # on the evaluation split: classes 5-9
    >>> change.num_items, abs(change.map_at_r_drop) < 1e-3, change.worst_drop <= 0.02
    (896, True, True)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from siamkit import __version__
from siamkit.data import load_data, parse_classes
from siamkit.data.sources import NO_DATA
from siamkit.distances import get_distance
from siamkit.export.metric_change import MetricChange, metric_change
from siamkit.export.onnx_graph import DEFAULT_OPSET, export_graph, write_metadata
from siamkit.export.parity import (
    ParityReport,
    check_parity,
    compare_embeddings,
    onnx_embeddings,
    torch_embeddings,
)
from siamkit.export.quantize import quantize_int8
from siamkit.export.targets import get_target
from siamkit.models.standardize import Standardize
from siamkit.run import fingerprint_state, open_run
from siamkit.run.checkpoint import LoadedRun, load_run
from siamkit.run.config import source_options
from siamkit.runtime.metadata import ModelMetadata

QUANTIZE = ("int8",)


class MetricDropError(ValueError):
    """The exported model loses more quality than ``max_metric_drop`` allows."""


@dataclass
class ExportReport:
    """What :func:`export_run` wrote and measured.

    Attributes:
        path: The ONNX file written.
        metadata: What it carries.
        parity: fp32 graph vs PyTorch on the held-out batch (the gate: cosine >= 0.9999).
        int8_parity: The int8 graph vs PyTorch on the same batch (information only), or None.
        metric_change: MAP@R and ROC-AUC of PyTorch vs the written model on the evaluation
            split (for int8, or when a tolerance was given), or None.
        size_bytes: Size of the written file.
        fp32_size_bytes: Size of the fp32 graph before its metadata was added.
    """

    path: Path
    metadata: ModelMetadata
    parity: ParityReport
    int8_parity: ParityReport | None
    metric_change: MetricChange | None
    size_bytes: int
    fp32_size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {
            "path": str(self.path),
            "kind": self.metadata.kind,
            "quantization": self.metadata.quantization,
            "fingerprint": self.metadata.fingerprint,
            "distance": self.metadata.distance,
            "threshold": self.metadata.threshold,
            "parity": self.parity.as_dict(),
            "int8_parity": None if self.int8_parity is None else self.int8_parity.as_dict(),
            "metric_change": None if self.metric_change is None else self.metric_change.as_dict(),
            "size_bytes": self.size_bytes,
            "fp32_size_bytes": self.fp32_size_bytes,
        }


@dataclass
class _RunItems:
    """Items of the run's data used by the export checks."""

    held_out: Tensor  # (P, ...) parity batch, from the evaluation classes
    eval_x: Tensor  # (N, ...) the evaluation split
    eval_y: Tensor  # (N,)
    calibration: Tensor  # (K, ...) training items (validation excluded) for static int8


def export_run(
    run_dir: str | Path,
    out: str | Path,
    quantize: str | None = None,
    opset: int = DEFAULT_OPSET,
    max_metric_drop: float | None = None,
    checkpoint: str = "best",
    parity_items: int = 256,
    calibration_items: int = 512,
    num_pairs: int = 20_000,
    seed: int = 0,
) -> ExportReport:
    """Export a run's encoder to ``out`` (see the module for the steps).

    Args:
        run_dir: A run directory from ``siamkit train``.
        out: The ``.onnx`` file to write (replaced only when every check passes).
        quantize: None (fp32) or ``int8``.
        opset: ONNX opset (>= 13).
        max_metric_drop: Fail when MAP@R or ROC-AUC on the evaluation split falls by more than
            this (metric units: 0.02 = two points) against PyTorch; None only reports.
        checkpoint: ``best`` or ``last``.
        parity_items: Held-out items for the parity check.
        calibration_items: Training items for static int8 calibration.
        num_pairs: Balanced pairs for ROC-AUC.
        seed: Chooses the held-out, calibration and pair samples.

    Raises:
        ValueError: Bad arguments or run; ``ParityError`` / :class:`MetricDropError` (both
            ValueErrors) when a check fails, with the figures.
    """
    if quantize is not None and quantize not in QUANTIZE:
        raise ValueError(f"unknown quantization '{quantize}'; choose one of: {', '.join(QUANTIZE)}")
    if max_metric_drop is not None and not max_metric_drop >= 0:
        raise ValueError(f"max_metric_drop must be >= 0 (metric units), got {max_metric_drop}")
    out = Path(out)
    if out.suffix != ".onnx":
        raise ValueError(f"the output file should end in .onnx, got {out}")
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; give a file name such as {out}/model.onnx")
    run = load_run(run_dir, checkpoint)
    target = get_target(run.spec)
    needs_data = quantize is not None or max_metric_drop is not None
    items = _run_items(run, parity_items, calibration_items, seed, needs_data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".siamkit-export-", dir=out.parent))
    try:
        fp32 = tmp / "fp32.onnx"
        graph = export_graph(run.model, run.spec, fp32, opset)
        fp32_size = fp32.stat().st_size
        parity = check_parity(graph, fp32, items.held_out, target)
        final, int8_parity, change = fp32, None, None
        if quantize == "int8":
            final = tmp / "int8.onnx"
            feeds = [
                target.feeds(items.calibration[i : i + 64])
                for i in range(0, len(items.calibration), 64)
            ]
            quantize_int8(fp32, final, target.int8_mode, feeds)
            int8_parity = compare_embeddings(
                torch_embeddings(graph, items.held_out),
                onnx_embeddings(final, items.held_out, target),
            )
        if quantize is not None or max_metric_drop is not None:
            change = metric_change(
                torch_embeddings(graph, items.eval_x),
                onnx_embeddings(final, items.eval_x, target),
                items.eval_y.numpy(),
                graph.output_distance,
                num_pairs,
                seed,
            )
            if max_metric_drop is not None and change.worst_drop > max_metric_drop:
                raise MetricDropError(
                    f"the {quantize or 'fp32'} export loses too much on the evaluation split: "
                    f"MAP@R {change.reference_map_at_r:.4f} -> {change.candidate_map_at_r:.4f}, "
                    f"ROC-AUC {change.reference_roc_auc:.4f} -> {change.candidate_roc_auc:.4f} "
                    f"(largest drop {change.worst_drop:.4f} > --max-metric-drop "
                    f"{max_metric_drop}); nothing was written. Export fp32, or raise the tolerance"
                )
        meta = _metadata(
            run,
            target.input_names,
            target.metadata_extra(run.spec),
            graph.output_distance,
            int(torch_embeddings(graph, items.held_out[:2]).shape[1]),
            target.int8_mode if quantize else "none",
            opset,
        )
        write_metadata(final, meta.to_props())
        os.replace(final, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportReport(out, meta, parity, int8_parity, change, out.stat().st_size, fp32_size)


def _run_items(
    run: LoadedRun, parity_items: int, calibration_items: int, seed: int, needs_data: bool = False
) -> _RunItems:
    """The evaluation split (held-out batch + metric items) and training items to calibrate on:
    the run's training part, without its validation items, as the trainer split them.

    A run made without training (``siamkit init``) calibrates on the training split's classes
    outside its evaluation classes; a run with no evaluation classes (trained on every class)
    is checked on its data's test split, whose classes it trained on."""
    from siamkit.training.setup import prepare_data

    cfg = run.config
    g = torch.Generator().manual_seed(seed)
    if cfg.data == NO_DATA:  # `siamkit init` without data: parity on random images only
        if needs_data:
            raise ValueError(
                f"{run.run_dir} names no data (made with `siamkit init` without --data), so "
                "int8 has nothing to calibrate on and no metric change can be measured; make "
                "the run with `siamkit init --data SOURCE`, or export fp32"
            )
        shape = run.spec.input_shape
        random = torch.rand((parity_items, *shape), generator=g)
        return _RunItems(random, random, torch.zeros(0, dtype=torch.long), random)
    try:
        test = load_data(cfg.data, source_options(cfg), split="test")
        eval_classes = parse_classes(cfg.eval_classes, test.class_names)
        evaluation = test.of_classes(eval_classes) if eval_classes else test
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # training-data warnings were shown at training
            if parse_classes(cfg.train_classes, test.class_names):
                training = prepare_data(cfg).train  # the items the model (and Standardize) saw
            else:  # no training: items of the classes it will not be evaluated on
                train_split = load_data(cfg.data, source_options(cfg), split="train")
                others = [c for c in range(len(test.class_names)) if c not in eval_classes]
                training = train_split.of_classes(others) if others else train_split
    except ValueError as e:
        raise ValueError(
            f"the export checks read the run's data '{cfg.data}', which failed: {e}"
        ) from None
    if len(evaluation) < 2:
        raise ValueError(
            f"the run's evaluation classes {cfg.eval_classes} hold {len(evaluation)} items; "
            "the parity check needs held-out items"
        )
    held = torch.randperm(len(evaluation), generator=g)[:parity_items]
    calib = torch.randperm(len(training), generator=g)[:calibration_items]
    return _RunItems(
        held_out=evaluation.x[held],
        eval_x=evaluation.x,
        eval_y=evaluation.y,
        calibration=training.x[calib],
    )


def _metadata(
    run: LoadedRun,
    input_names: list[str],
    extra: dict[str, Any],
    distance: str,
    embedding_dim: int,
    quantization: str,
    opset: int,
) -> ModelMetadata:
    """Everything the ONNX file carries about the run (see :class:`ModelMetadata`)."""

    model, spec = run.model, run.spec
    variant = "int8" if quantization != "none" else ""
    mean: list[float] = []
    std: list[float] = []
    # the first Standardize layer (an ensemble's first member's)
    first = next((m for m in model.encoder.modules() if isinstance(m, Standardize)), None)
    if first is not None:
        mean = [float(v) for v in first.mean.flatten()]
        std = [float(v) for v in first.std.flatten()]
    rule = open_run(run.run_dir).decision_rule(model.distance.larger_is_closer)
    threshold = None if rule is None else rule.threshold
    source = None if rule is None else rule.source
    return ModelMetadata(
        siamkit_version=__version__,
        kind=spec.kind,
        input_shape=list(spec.input_shape),
        input_names=list(input_names),
        input_mean=mean,
        input_std=std,
        distance=distance,
        larger_is_closer=get_distance(distance).larger_is_closer,
        source_distance=spec.distance,
        embedding_dim=embedding_dim,
        normalize=spec.normalize,
        threshold=threshold,
        threshold_source=source,
        fingerprint=fingerprint_state(model.state_dict(), variant=variant),
        quantization=quantization,
        encoder=spec.encoder,
        opset=opset,
        extra=extra,
    )
