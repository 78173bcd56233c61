"""What differs between encoder kinds when exporting: example inputs, graph inputs, int8 mode.

One :class:`ExportTarget` is registered per model kind (``image``, ``vector``; ``text`` when the
text encoders are installed). Adding a kind is one registration: its example inputs for tracing,
the graph's input names and dynamic axes, how a batch of the run's items becomes onnxruntime
feeds, and which int8 mode suits it (static QDQ with calibration for CNNs and MLPs, dynamic for
transformers, whose activation ranges vary too much per input for fixed scales).

Example:
    >>> target = get_target("image")
    >>> target.input_names, target.int8_mode
    (['input'], 'int8-static')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from siamkit.models.spec import ModelSpec
from siamkit.registry import Registry


@dataclass(frozen=True)
class ExportTarget:
    """How to export and feed one kind of encoder.

    Attributes:
        kind: ``image``, ``vector`` or ``text`` (the ``ModelSpec.kind`` it serves).
        input_names: The graph's inputs, in the order :attr:`example_inputs` returns them.
        dynamic_axes: Input/output name -> {axis: symbolic name}; axis 0 is always ``batch``.
        example_inputs: Spec -> the example tensors the graph is traced with.
        feeds: A batch of the run's items ``(N, ...)`` -> onnxruntime feeds (numpy).
        int8_mode: ``int8-static`` (QDQ, calibrated on training items) or ``int8-dynamic``.
        metadata_extra: Spec -> kind-specific metadata (a text model's tokenizer, ...).
    """

    kind: str
    input_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    example_inputs: Callable[[ModelSpec], tuple[Tensor, ...]]
    feeds: Callable[[Tensor], dict[str, npt.NDArray[Any]]]
    int8_mode: str
    metadata_extra: Callable[[ModelSpec], dict[str, Any]] = field(default=lambda spec: {})


TARGETS: Registry[ExportTarget] = Registry("exportable model kind")


def get_target(kind: str) -> ExportTarget:
    """The registered :class:`ExportTarget` of a model kind (a ValueError lists the kinds)."""
    return TARGETS.get(kind)()


def _float_feeds(x: Tensor) -> dict[str, npt.NDArray[Any]]:
    return {"input": np.ascontiguousarray(x.detach().cpu().float().numpy())}


@TARGETS.register("image")
def image_target() -> ExportTarget:
    """Images ``(N, C, H, W)`` in [0, 1]: one float input, static int8."""
    return ExportTarget(
        kind="image",
        input_names=["input"],
        dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
        example_inputs=lambda spec: (torch.rand(2, *spec.input_shape),),
        feeds=_float_feeds,
        int8_mode="int8-static",
    )


@TARGETS.register("vector")
def vector_target() -> ExportTarget:
    """Feature vectors ``(N, F)``: one float input, static int8."""
    return ExportTarget(
        kind="vector",
        input_names=["input"],
        dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
        example_inputs=lambda spec: (torch.randn(2, int(np.prod(spec.input_shape))),),
        feeds=lambda x: _float_feeds(x.flatten(1)),
        int8_mode="int8-static",
    )
