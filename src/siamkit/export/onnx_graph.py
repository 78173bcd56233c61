"""Tracing a trained twin network's embedding path to an ONNX graph with a dynamic batch axis.

The graph is the run's ``embed``: the input standardisation (the encoder's first layer), the
encoder, the L2 normalisation when the run normalises, and, for a learned Mahalanobis distance
``‖L(a - b)‖``, the projection ``L``, so that plain Euclidean distance between the graph's outputs
equals the run's distance. Transformers are traced through
:class:`~siamkit.export.text_graph.TraceableTransformer` (dynamic token axis). Uses PyTorch's
TorchScript-based exporter (``dynamo=False``), which needs no extra dependency beyond ``onnx``.

Example:
    >>> from siamkit.run.checkpoint import load_run
    >>> run = load_run("runs/digits")
    >>> graph = export_graph(run.model, run.spec, "fp32.onnx", opset=17)  # no metadata yet
    >>> graph.output_distance, graph(torch.rand(3, 1, 8, 8)).shape  # what the file computes
    ('euclidean', torch.Size([3, 16]))
    >>> export_graph(run.model, run.spec, "fp32.onnx", opset=12)
    Traceback (most recent call last):
        ...
    ValueError: opset 12 is too old; use --opset 13 or newer
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.export.targets import get_target
from siamkit.export.text_graph import traceable_encoder
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import ModelSpec

DEFAULT_OPSET = 17
MIN_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear need 13
ONNX_EXTRA = "pip install 'siamkit[onnx]' (onnx, onnxruntime)"


class EmbeddingGraph(nn.Module):
    """The module that is exported: inputs ``(B, ...)`` -> embeddings ``(B, D')``.

    ``D' = D``, or the Mahalanobis rank when the run's distance is a learned metric (folded in).

    Args:
        model: A trained twin network (eval mode is set).
    """

    def __init__(self, model: SiameseNetwork) -> None:
        super().__init__()
        self.model = model.eval()
        self.encoder = traceable_encoder(model.encoder)
        distance = model.distance
        self.fold_metric = bool(getattr(distance, "learned", False))

    def forward(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, D')`` of a batch ``(B, ...)``: as ``SiameseNetwork.embed``."""
        z = self.encoder(x)  # (B, D)
        if self.model.normalize:
            z = F.normalize(z, dim=1)
        if self.fold_metric:
            z = self.model.distance.project(z)  # type: ignore[attr-defined]  # (B, rank)
        return z

    @property
    def output_distance(self) -> str:
        """The registered distance between outputs that equals the run's distance."""
        return "euclidean" if self.fold_metric else self.model.distance.name


def export_graph(
    model: SiameseNetwork, spec: ModelSpec, path: str | Path, opset: int = DEFAULT_OPSET
) -> EmbeddingGraph:
    """Write the fp32 embedding graph of ``model`` to ``path`` (no metadata yet).

    Args:
        model: The trained twin network.
        spec: Its architecture (kind and input shape).
        path: The ``.onnx`` file to write.
        opset: ONNX opset version (at least 13).

    Returns:
        The exported module (for parity checks against the file).

    Raises:
        ValueError: An opset below 13, or a model kind that cannot be exported.
    """
    _require_onnx()
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is too old; use --opset {MIN_OPSET} or newer")
    target = get_target(spec)
    graph = EmbeddingGraph(model.to(memory_format=torch.contiguous_format))  # type: ignore[call-overload]
    example = target.example_inputs(spec)
    with warnings.catch_warnings(), torch.no_grad():
        # The legacy exporter warns that it is legacy, and about shape checks in forward()
        # that tracing records as constants (the batch axis stays dynamic).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            example,
            str(path),
            dynamo=False,
            input_names=target.input_names,
            output_names=["embedding"],
            dynamic_axes=target.dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
        )
    return graph


def write_metadata(path: str | Path, props: Mapping[str, str]) -> None:
    """Replace the siamkit entries of an ONNX file's ``metadata_props`` with ``props``."""
    import onnx

    model = onnx.load(str(path))
    keep = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "siamkit"
    onnx.save(model, str(path))


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ValueError(f"ONNX export needs onnx and onnxruntime: {ONNX_EXTRA}") from None
