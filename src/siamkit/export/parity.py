"""Does the ONNX file compute what the PyTorch model computes? Compared on a held-out batch.

Example:
    >>> from siamkit.export.onnx_graph import EmbeddingGraph
    >>> from siamkit.export.targets import get_target
    >>> from siamkit.run.checkpoint import load_run
    >>> run = load_run("runs/digits")  # model.onnx is its export
    >>> graph, target = EmbeddingGraph(run.model), get_target(run.spec)
    >>> x = torch.rand(8, 1, 8, 8)  # a batch of the run's inputs
    >>> report = check_parity(graph, "model.onnx", x, target)
    >>> report.num_items, report.min_cosine >= MIN_COSINE, report.max_abs_diff < 1e-5
    (8, True, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from siamkit.export.targets import ExportTarget
from siamkit.progress import task

MIN_COSINE = 0.9999  # fp32 exports must match PyTorch this closely, row by row


class ParityError(ValueError):
    """An fp32 export whose embeddings differ from PyTorch's beyond the tolerance."""


@dataclass(frozen=True)
class ParityReport:
    """Agreement of two embedding sets of one batch.

    Attributes:
        num_items: Rows compared.
        max_abs_diff: Largest absolute difference of any coordinate.
        min_cosine: Smallest cosine similarity between a PyTorch row and its ONNX row.
        mean_cosine: Mean of those cosines.
    """

    num_items: int
    max_abs_diff: float
    min_cosine: float
    mean_cosine: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON."""
        return asdict(self)


def compare_embeddings(reference: npt.ArrayLike, candidate: npt.ArrayLike) -> ParityReport:
    """Max abs difference and row cosines of two ``(N, D)`` embedding arrays."""
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"cannot compare embeddings of shapes {a.shape} and {b.shape}")
    na = np.maximum(np.linalg.norm(a, axis=1), 1e-12)
    nb = np.maximum(np.linalg.norm(b, axis=1), 1e-12)
    cos = (a * b).sum(axis=1) / (na * nb)  # (N,)
    return ParityReport(
        num_items=len(a),
        max_abs_diff=float(np.abs(a - b).max()),
        min_cosine=float(cos.min()),
        mean_cosine=float(cos.mean()),
    )


@torch.inference_mode()
def torch_embeddings(graph: torch.nn.Module, x: Tensor, batch_size: int = 256) -> np.ndarray:
    """The exported module's own embeddings ``(N, D')`` of ``x``, in eval mode, as float32."""
    graph.eval()
    parts = []
    with task("embedding with PyTorch", total=len(x)) as advance:
        for i in range(0, len(x), batch_size):
            parts.append(graph(x[i : i + batch_size]).float().numpy())
            advance(len(parts[-1]))
    return np.concatenate(parts)


def onnx_embeddings(path: str | Path, x: Tensor, target: ExportTarget) -> np.ndarray:
    """Embeddings ``(N, D')`` of ``x`` from the ONNX file at ``path`` (torch's thread count)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = []
    with task("embedding with ONNX Runtime", total=len(x)) as advance:
        for i in range(0, len(x), 256):
            out.append(session.run(None, target.feeds(x[i : i + 256]))[0])
            advance(len(out[-1]))
    return np.concatenate(out).astype(np.float32)


def check_parity(
    graph: torch.nn.Module,
    path: str | Path,
    x: Tensor,
    target: ExportTarget,
    min_cosine: float | None = MIN_COSINE,
) -> ParityReport:
    """Embed ``x`` with the PyTorch module and the ONNX file and compare.

    Args:
        graph: The exported module (:class:`~siamkit.export.onnx_graph.EmbeddingGraph`).
        path: The ONNX file.
        x: A held-out batch ``(N, ...)`` of the run's items.
        target: The model kind's export target (how ``x`` becomes feeds).
        min_cosine: Raise below this row cosine; None only reports (int8 files).

    Raises:
        ParityError: Some row's cosine is below ``min_cosine`` or a value is not finite.
    """
    report = compare_embeddings(torch_embeddings(graph, x), onnx_embeddings(path, x, target))
    if min_cosine is not None and not (report.min_cosine >= min_cosine):
        raise ParityError(
            f"the ONNX export does not match PyTorch on {report.num_items} held-out items: "
            f"min cosine {report.min_cosine:.6f} < {min_cosine} (max abs diff "
            f"{report.max_abs_diff:.3g}); try another --opset, and report the model if it persists"
        )
    return report
