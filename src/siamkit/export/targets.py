"""What differs between encoder kinds when exporting: example inputs, graph inputs, int8 mode.

One :class:`ExportTarget` factory is registered per model kind (``image``, ``vector``, ``text``)
and built for a run's spec. Adding a kind is one registration: its example inputs for tracing,
the graph's input names and dynamic axes, how a batch of the run's items becomes onnxruntime
feeds, and which int8 mode suits it (static QDQ with calibration for CNNs and MLPs, dynamic for
transformers, whose activation ranges vary too much per input for fixed scales).

Example:
    >>> from siamkit.run.checkpoint import load_run
    >>> spec = load_run("runs/digits").spec  # an image run
    >>> target = get_target(spec)
    >>> target.input_names, target.int8_mode
    (['input'], 'int8-static')
    >>> target.example_inputs(spec)[0].shape  # traced at batch 2; the batch axis stays dynamic
    torch.Size([2, 1, 8, 8])
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
from siamkit.models.text import PRETRAINED
from siamkit.models.text_tokenizer import load_tokenizer, resolve_model_dir
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


def get_target(spec: ModelSpec) -> ExportTarget:
    """The :class:`ExportTarget` for a run's spec (a ValueError lists the exportable kinds)."""
    return TARGETS.get(spec.kind)(spec)


def _float_feeds(x: Tensor) -> dict[str, npt.NDArray[Any]]:
    return {"input": np.ascontiguousarray(x.detach().cpu().float().numpy())}


@TARGETS.register("image")
def image_target(spec: ModelSpec) -> ExportTarget:
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
def vector_target(spec: ModelSpec) -> ExportTarget:
    """Feature vectors ``(N, F)``: one float input, static int8."""
    return ExportTarget(
        kind="vector",
        input_names=["input"],
        dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
        example_inputs=lambda spec: (torch.randn(2, int(np.prod(spec.input_shape))),),
        feeds=lambda x: _float_feeds(x.flatten(1)),
        int8_mode="int8-static",
    )


@TARGETS.register("text")
def text_target(spec: ModelSpec) -> ExportTarget:
    """Token ids ``(N, L)`` int64, right-padded: dynamic batch and token axes. Transformers
    (``minilm``, ``hf:PATH``) get dynamic int8, ``text_cnn`` static int8. The metadata carries
    the tokenizer (``tokenizer.json``), its pad id and the maximum length, so the runtime
    tokenises with the ``tokenizers`` library alone."""

    transformer = spec.encoder.partition(":")[0] in PRETRAINED
    return ExportTarget(
        kind="text",
        input_names=["input_ids"],
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
        example_inputs=_example_ids,
        feeds=lambda x: {"input_ids": np.ascontiguousarray(x.detach().cpu().long().numpy())},
        int8_mode="int8-dynamic" if transformer else "int8-static",
        metadata_extra=_tokenizer_metadata,
    )


def _example_ids(spec: ModelSpec) -> tuple[Tensor, ...]:

    if spec.tokenizer is None:
        raise ValueError("this text run's spec names no tokenizer; retrain it with this siamkit")
    ids = load_tokenizer(spec.tokenizer).encode(["an example sentence to trace", "two"], 16)
    return (ids,)  # (2, L): one row padded, so the mask path is traced


def _tokenizer_metadata(spec: ModelSpec) -> dict[str, Any]:

    if spec.tokenizer is None:
        raise ValueError("this text run's spec names no tokenizer; retrain it with this siamkit")
    path = resolve_model_dir(spec.tokenizer) / "tokenizer.json"
    if not path.is_file():
        raise ValueError(
            f"{path} not found: the ONNX runtime needs the fast tokenizer's tokenizer.json; "
            "save the tokenizer with save_pretrained and retrain"
        )
    return {
        "tokenizer_json": path.read_text(),
        "pad_id": load_tokenizer(spec.tokenizer).pad_id,
        "max_length": spec.max_length or 128,
    }
