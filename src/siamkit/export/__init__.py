"""ONNX export and int8 quantization of trained encoders (needs the ``onnx`` extra).

``export_run`` turns a run directory into one self-describing ONNX file, checked against
PyTorch; :class:`siamkit.runtime.OnnxEncoder` runs it without torch.

Example:
    >>> from siamkit.export import export_run
    >>> report = export_run("runs/digits", "digits.onnx")  # fp32; quantize="int8" for int8
    >>> report.metadata.quantization, report.parity.min_cosine >= 0.9999
    ('none', True)
    >>> from siamkit.runtime import OnnxEncoder
    >>> OnnxEncoder("digits.onnx").embed_files(["a.png"]).shape  # no torch needed from here
    (1, 16)
"""

from __future__ import annotations

from siamkit.export.metric_change import MetricChange, metric_change
from siamkit.export.onnx_graph import DEFAULT_OPSET, EmbeddingGraph, export_graph
from siamkit.export.parity import MIN_COSINE, ParityError, ParityReport, check_parity
from siamkit.export.quantize import INT8_MODES, quantize_int8
from siamkit.export.run_export import QUANTIZE, ExportReport, MetricDropError, export_run
from siamkit.export.targets import TARGETS, ExportTarget, get_target

__all__ = [
    "DEFAULT_OPSET",
    "INT8_MODES",
    "MIN_COSINE",
    "QUANTIZE",
    "TARGETS",
    "EmbeddingGraph",
    "ExportReport",
    "ExportTarget",
    "MetricChange",
    "MetricDropError",
    "ParityError",
    "ParityReport",
    "check_parity",
    "export_graph",
    "export_run",
    "get_target",
    "metric_change",
    "quantize_int8",
]
