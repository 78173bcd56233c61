"""An exported siamkit encoder run with onnxruntime and numpy alone: no torch import.

:class:`OnnxEncoder` satisfies :class:`siamkit.run.Embedder`, so the gallery and the service
take it wherever they take a PyTorch run.

Example:
    >>> enc = OnnxEncoder("model.onnx")
    >>> emb = enc.embed_files(["a.png", "b.png", "c.png"])  # (3, D) float32
    >>> emb.shape, emb.dtype
    ((3, 16), dtype('float32'))
    >>> enc.same(emb[[0, 0]], emb[[1, 2]])  # at the exported threshold: a~b (zeros), a~c not
    array([ True, False])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.progress import task
from siamkit.readers import image_files, read_texts, read_vectors
from siamkit.readers.images import load_images
from siamkit.run.calibration import Calibration
from siamkit.run.decision import DecisionRule, accepts
from siamkit.runtime.distances import pair_distances
from siamkit.runtime.metadata import ModelMetadata

FloatArray = npt.NDArray[np.float32]
Feeds = dict[str, npt.NDArray[Any]]


class OnnxEncoder:
    """Embeds with an ONNX file written by ``siamkit export`` (see :mod:`siamkit.export`).

    Args:
        path: The ``.onnx`` file.
        num_threads: onnxruntime intra-op threads; None = onnxruntime's default (all cores).
        batch_size: Items per inference call in :meth:`embed` (bounds memory).

    Attributes:
        fingerprint, embedding_dim, kind, distance: As in :class:`~siamkit.run.Embedder`.
        threshold: The run's decision threshold in ``distance`` units, or None.
        larger_is_closer: Whether ``distance`` is a similarity.
        input_shape: One item: ``(C, H, W)`` or ``(F,)``.
        source: The file, as a string.
        calibration: None (the file carries its threshold, not a probability map).
        prepare_image: None: images are resized to ``input_shape``.
        metadata: Everything the file carries (:class:`~siamkit.runtime.ModelMetadata`).

    Raises:
        ValueError: The file is missing or not ONNX; :class:`NotASiamkitModelError` (a
            ValueError) when it is ONNX but not a siamkit export.
        ImportError: onnxruntime is not installed (the ``onnx`` extra).
    """

    def __init__(
        self, path: str | Path, num_threads: int | None = None, batch_size: int = 256
    ) -> None:
        ort = _import_onnxruntime()
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"ONNX file not found: {self.path}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise ValueError(f"cannot load {self.path} as an ONNX model: {e}") from None
        props = self.session.get_modelmeta().custom_metadata_map
        self.metadata = ModelMetadata.from_props(props, source=str(self.path))
        meta = self.metadata
        self.fingerprint: str = meta.fingerprint
        self.embedding_dim: int = meta.embedding_dim
        self.kind: str = meta.kind
        self.distance: str = meta.distance
        self.threshold: float | None = meta.threshold
        self.larger_is_closer: bool = meta.larger_is_closer
        self.input_shape: tuple[int, ...] = tuple(meta.input_shape)
        self.source = str(self.path)
        self.calibration: Calibration | None = None
        self.prepare_image = None
        self.batch_size = batch_size
        self._output = self.session.get_outputs()[0].name
        names = [i.name for i in self.session.get_inputs()]
        if names != meta.input_names:
            raise ValueError(
                f"{self.path}: the graph's inputs {names} differ from its metadata "
                f"{meta.input_names}; the file was edited after export, re-export it"
            )
        self._feeds: Callable[[Any], list[Feeds]] = getattr(self, _FEEDS[self.kind])

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> FloatArray:
        """Embed a batch: images ``(N, C, H, W)`` float in [0, 1], vectors ``(N, F)``, or a list
        of N texts (tokenised with the model's own tokenizer, carried in the file).

        Returns:
            ``(N, D)`` float32 embeddings (L2-normalised when the model normalises).

        Raises:
            ValueError: Inputs of the wrong kind, shape or dtype, or with NaN/inf, naming what
                was received and what the model takes.
        """
        batches = self._feeds(inputs)  # checks the inputs first
        parts = []
        with task("embedding", total=len(inputs)) as advance:
            for feeds in batches:
                parts.append(self.session.run([self._output], feeds)[0])
                advance(len(parts[-1]))
        out = np.concatenate(parts).astype(np.float32, copy=False)  # (N, D)
        if out.ndim != 2 or out.shape[1] != self.embedding_dim:
            raise ValueError(
                f"{self.path} produced embeddings of shape {out.shape}, its metadata says "
                f"D = {self.embedding_dim}; re-export the model"
            )
        return out

    def embed_files(self, paths: Sequence[str | Path], on_mismatch: str = "resize") -> FloatArray:
        """Embed image files (decoded with PIL, resized to the model's size): ``(N, D)``."""
        if self.kind != "image":
            raise ValueError(f"embed_files reads images; this is a {self.kind} model")
        c, h, w = self.input_shape
        return self.embed(load_images(paths, c, (h, w), on_mismatch))

    def load(self, sources: Sequence[str]) -> tuple[Any, list[str]]:
        """Read inputs for this model and name each item: image files or folders (resized to
        the model's size), ``.npy``/``.csv``/literal vectors, or ``.txt`` files and texts.

        Returns:
            The batch :meth:`embed` takes (``(N, C, H, W)``, ``(N, F)`` or N texts) and names.

        Raises:
            ValueError: A missing, unreadable or ill-fitting source, named.
        """
        if self.kind == "image":
            files = image_files(sources)
            c, h, w = self.input_shape
            return load_images(files, c, (h, w)), [str(f) for f in files]
        if self.kind == "text":
            return read_texts(sources)
        return read_vectors(sources, int(np.prod(self.input_shape)))

    def decision_rule(self) -> DecisionRule | None:
        """The exported threshold as a rule (no probability map), or None without one."""
        if self.threshold is None:
            return None
        return DecisionRule(self.distance, self.threshold, self.larger_is_closer, None, "export")

    def pair_distances(self, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
        """The model's distance between embeddings ``a[i]`` and ``b[i]``: ``(B,)``."""
        return pair_distances(a, b, self.distance)

    def same(
        self, a: npt.ArrayLike, b: npt.ArrayLike, threshold: float | None = None
    ) -> npt.NDArray[np.bool_]:
        """Whether each pair of embeddings is the same identity at the exported threshold.

        Raises:
            ValueError: The model carries no threshold and none is given.
        """
        thr = self.threshold if threshold is None else threshold
        if thr is None:
            raise ValueError(
                f"{self.path} carries no threshold (its run had no validation split or "
                "calibration); pass threshold=..."
            )
        return accepts(self.pair_distances(a, b), thr, self.larger_is_closer)

    def __repr__(self) -> str:
        m = self.metadata
        return (
            f"OnnxEncoder({str(self.path)!r}, kind={m.kind}, input_shape={m.input_shape}, "
            f"D={m.embedding_dim}, distance={m.distance}, quantization={m.quantization})"
        )

    # --- inputs of each kind -> onnxruntime feeds, in batches -------------------------------

    def _array_feeds(self, inputs: Any) -> list[Feeds]:
        if not isinstance(inputs, np.ndarray):
            raise ValueError(
                f"this {self.kind} model takes a numpy array, got {type(inputs).__name__}"
                + ("; use embed_files() for image paths" if self.kind == "image" else "")
            )
        expect = (
            f"(N, {', '.join(map(str, self.input_shape))})"
            if self.kind == "image"
            else f"(N, {int(np.prod(self.input_shape))})"
        )
        if inputs.dtype.kind not in "fiu" or inputs.dtype == np.bool_:
            raise ValueError(f"inputs must be numeric {expect}, got dtype {inputs.dtype}")
        if self.kind == "image":
            if inputs.dtype.kind in "iu":
                raise ValueError(
                    f"images must be float in [0, 1], got dtype {inputs.dtype}; divide by 255 "
                    "or read files with embed_files()"
                )
            if inputs.ndim != 4 or tuple(inputs.shape[1:]) != self.input_shape:
                raise ValueError(
                    f"wrong input shape {tuple(inputs.shape)}: this model takes images {expect} "
                    "in [0, 1]; add the batch axis with x[None] or resize to the model's size"
                )
            x = inputs.astype(np.float32, copy=False)
        else:
            n_features = int(np.prod(self.input_shape))
            if inputs.ndim < 2 or int(np.prod(inputs.shape[1:])) != n_features:
                raise ValueError(
                    f"wrong input shape {tuple(inputs.shape)}: this model takes vectors {expect}; "
                    "add the batch axis with x[None]"
                )
            x = inputs.reshape(len(inputs), n_features).astype(np.float32, copy=False)
        if len(x) == 0:
            raise ValueError(f"nothing to embed: the input batch {tuple(inputs.shape)} is empty")
        if not np.isfinite(x).all():
            raise ValueError("inputs contain NaN or infinite values")
        x = np.ascontiguousarray(x)
        name = self.metadata.input_names[0]
        return [{name: x[i : i + self.batch_size]} for i in range(0, len(x), self.batch_size)]

    def _text_feeds(self, inputs: Any) -> list[Feeds]:
        if isinstance(inputs, (str, np.ndarray)) or not isinstance(inputs, Sequence):
            raise ValueError(
                f"this text model takes a list of strings, got {type(inputs).__name__}"
                + ("; wrap one text in a list" if isinstance(inputs, str) else "")
            )
        if len(inputs) == 0:
            raise ValueError("nothing to embed: the list of texts is empty")
        for i, t in enumerate(inputs):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"text {i} is empty or not a string ({t!r}); give non-empty text")
        tokenizer = self._tokenizer()
        pad_id = int(self.metadata.extra["pad_id"])
        name = self.metadata.input_names[0]
        feeds = []
        for i in range(0, len(inputs), self.batch_size):
            rows = [e.ids for e in tokenizer.encode_batch(list(inputs[i : i + self.batch_size]))]
            ids = np.full((len(rows), max(map(len, rows))), pad_id, dtype=np.int64)  # (B, L)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = row  # right padding, as the encoder expects
            feeds.append({name: ids})
        return feeds

    def _tokenizer(self) -> Any:
        """The model's fast tokenizer, from the metadata (truncating at its max length)."""
        if not hasattr(self, "_tok"):
            try:
                from tokenizers import Tokenizer
            except ImportError:
                raise ImportError(
                    "text models need the tokenizers library: pip install tokenizers"
                ) from None
            extra = self.metadata.extra
            tok = Tokenizer.from_str(extra["tokenizer_json"])
            tok.no_padding()
            tok.enable_truncation(int(extra["max_length"]))
            self._tok = tok
        return self._tok


# model kind -> the method turning that kind's inputs into feeds
_FEEDS = {"image": "_array_feeds", "vector": "_array_feeds", "text": "_text_feeds"}


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(
            "siamkit.runtime needs onnxruntime: pip install 'siamkit[onnx]'"
        ) from None
    return onnxruntime
