"""What the gallery and the service need from a model: embed inputs, say which model it is.

Two implementations exist: one over a PyTorch run directory (``siamkit.index``) and one over an
exported ONNX file that runs without torch (``siamkit.runtime``). This module imports neither
torch nor onnxruntime, so both can depend on it.

Example:
    >>> emb: Embedder = ...  # any object with these attributes
    >>> vectors = emb.embed(batch)  # (N, D) float32
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FINGERPRINT_CHARS = 16  # hex characters kept of the sha256


@runtime_checkable
class Embedder(Protocol):
    """A trained encoder seen from outside: inputs in, (N, D) float32 embeddings out.

    Attributes:
        fingerprint: Identifies the weights (see :func:`fingerprint_weights`); a gallery refuses
            embeddings from a model whose fingerprint differs from its own.
        embedding_dim: D, the size of one embedding.
        kind: ``"image"``, ``"vector"`` or ``"text"``: what :meth:`embed` accepts.
        distance: Registered distance name used to compare embeddings (e.g. ``"euclidean"``).
    """

    fingerprint: str
    embedding_dim: int
    kind: str
    distance: str

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed a batch: images ``(N, C, H, W)`` in [0, 1], vectors ``(N, F)`` or N texts.

        Returns:
            ``(N, D)`` float32 embeddings (L2-normalised where the model normalises).
        """
        ...


def fingerprint_weights(weights: Mapping[str, npt.ArrayLike], *, variant: str = "") -> str:
    """A short, stable identity for a set of weights: sha256 over sorted names, shapes, bytes.

    The same weights give the same fingerprint whether read from a safetensors file (torch) or
    carried in an exported model's metadata. ``variant`` marks derived numerics (``"int8"``), so
    a quantized export is told apart from its float source.

    Args:
        weights: Tensor name -> array (numpy arrays, or torch tensors via ``.numpy()`` first).
        variant: Appended as ``":variant"`` when not empty.

    Returns:
        16 hex characters, plus ``":variant"``.
    """
    h = hashlib.sha256()
    for name in sorted(weights):
        arr = np.ascontiguousarray(np.asarray(weights[name]))
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    fp = h.hexdigest()[:FINGERPRINT_CHARS]
    return f"{fp}:{variant}" if variant else fp
