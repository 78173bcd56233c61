"""What an exported siamkit model says about itself, stored in the ONNX file's metadata.

Every field is written as one ``metadata_props`` entry ``siamkit.<field>`` holding a JSON value,
so the file is self-describing in any ONNX viewer and readable without torch. A file without
``siamkit.format_version`` is not a siamkit export. This module imports neither torch nor
onnxruntime: the exporter writes these entries and :class:`~siamkit.runtime.OnnxEncoder` reads
them.

Example:
    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    >>> meta = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map)
    >>> meta.kind, meta.input_shape, meta.embedding_dim, meta.quantization
    ('image', [1, 8, 8], 16, 'none')
    >>> ModelMetadata.from_props({})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    siamkit.runtime.metadata.NotASiamkitModelError: this ONNX file is not a siamkit model: ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PREFIX = "siamkit."
FORMAT_VERSION = 1
KINDS = ("image", "vector", "text")
QUANTIZATIONS = ("none", "int8-static", "int8-dynamic")


class NotASiamkitModelError(ValueError):
    """The ONNX file carries no siamkit metadata (or metadata of an unknown format)."""


@dataclass
class ModelMetadata:
    """The run facts an exported encoder carries (all JSON-able).

    Attributes:
        siamkit_version: Version of siamkit that exported the file.
        kind: ``image`` (inputs ``(N, C, H, W)`` in [0, 1]), ``vector`` (``(N, F)``) or ``text``.
        input_shape: One item: ``[C, H, W]`` or ``[F]`` (empty for text).
        input_names: The graph's input names in order (``["input"]`` for images and vectors).
        input_mean, input_std: The standardisation constants, flattened. They are applied
            *inside* the graph (its first op), so callers feed raw [0, 1] images or raw features;
            they are recorded so a reader can see what the model expects.
        distance: Registered distance name for comparing the embeddings the graph outputs.
        larger_is_closer: Whether ``distance`` is a similarity.
        source_distance: The run's own distance; differs from ``distance`` when a learned metric
            (``mahalanobis``: ``‖L(a - b)‖``) was folded into the graph as a final projection
            ``L``, after which the plain ``euclidean`` distance gives the same values.
        embedding_dim: ``D``, columns of the output.
        normalize: Whether embeddings are L2-normalised inside the graph.
        threshold: Decision threshold in ``distance`` units (accept when ``distance <=
            threshold``, ``>=`` for similarities), or None.
        threshold_source: ``operating_point`` (the refit's, fitted on held-out training
            classes for a target FAR), ``calibration`` (``RUN/calibration.json``),
            ``validation`` (best accuracy on the run's validation pairs) or None.
        fingerprint: Identity of the weights (:func:`siamkit.run.fingerprint_weights` of the
            run's state dict; ``:int8`` for a quantized export).
        quantization: ``none``, ``int8-static`` (QDQ, calibrated) or ``int8-dynamic``.
        encoder: The registered encoder name of the run (``conv``, ``mlp``, ...).
        opset: ONNX opset of the graph.
        extra: Kind-specific facts (a text model's tokenizer and maximum length, ...).
    """

    siamkit_version: str
    kind: str
    input_shape: list[int]
    input_names: list[str]
    input_mean: list[float]
    input_std: list[float]
    distance: str
    larger_is_closer: bool
    source_distance: str
    embedding_dim: int
    normalize: bool
    threshold: float | None
    threshold_source: str | None
    fingerprint: str
    quantization: str
    encoder: str
    opset: int
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown model kind '{self.kind}'; choose one of: {', '.join(KINDS)}")
        if self.quantization not in QUANTIZATIONS:
            raise ValueError(
                f"unknown quantization '{self.quantization}'; choose one of: "
                f"{', '.join(QUANTIZATIONS)}"
            )

    def to_props(self) -> dict[str, str]:
        """``{"siamkit.<field>": json}`` entries for the ONNX ``metadata_props``."""
        props = {f"{PREFIX}format_version": json.dumps(FORMAT_VERSION)}
        props.update({PREFIX + k: json.dumps(v) for k, v in asdict(self).items()})
        return props

    @classmethod
    def from_props(cls, props: Mapping[str, str], source: str = "this ONNX file") -> ModelMetadata:
        """Read the entries written by :meth:`to_props`.

        Raises:
            NotASiamkitModelError: No siamkit entries, an unknown format version, or missing
                or malformed fields; the message names ``source``.
        """
        version = props.get(f"{PREFIX}format_version")
        if version is None:
            raise NotASiamkitModelError(
                f"{source} is not a siamkit model: it carries no '{PREFIX}format_version' "
                "metadata. Export one with `siamkit export RUN_DIR --format onnx --out "
                "model.onnx`"
            )
        try:
            if json.loads(version) != FORMAT_VERSION:
                raise NotASiamkitModelError(
                    f"{source} has siamkit metadata format {version}; this siamkit reads "
                    f"format {FORMAT_VERSION}. Re-export it with this version of siamkit"
                )
            values = {}
            for f in fields(cls):
                key = PREFIX + f.name
                if key in props:
                    values[f.name] = json.loads(props[key])
                elif f.name != "extra":
                    raise NotASiamkitModelError(
                        f"{source} has incomplete siamkit metadata: '{key}' is missing; "
                        "re-export it with `siamkit export`"
                    )
            return cls(**values)
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            if isinstance(e, NotASiamkitModelError):
                raise
            raise NotASiamkitModelError(
                f"{source} has malformed siamkit metadata ({e}); re-export it with `siamkit export`"
            ) from None
