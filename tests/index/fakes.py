"""Test doubles for the gallery: a transparent vector embedder and a letter-count text embedder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from siamkit.data.inputs import load_inputs
from siamkit.models.spec import ModelSpec


class VectorEmbedder:
    """An Embedder whose embedding of a vector is the vector times a fixed matrix.

    With ``scale=None`` the embedding is the input itself, so expected distances can be worked
    out by hand; ``load`` reads ``.npy`` / ``.csv`` files like a vector run does.
    """

    kind = "vector"

    def __init__(
        self,
        dim: int = 4,
        distance: str = "euclidean",
        seed: int | None = None,
        threshold: float = 1.0,
    ) -> None:
        self.embedding_dim = dim
        self.distance = distance
        self.threshold = threshold
        rng = np.random.default_rng(seed)
        self.matrix = (
            np.eye(dim, dtype=np.float32)
            if seed is None
            else rng.normal(size=(dim, dim)).astype(np.float32)
        )
        self.fingerprint = f"vector-{dim}-{seed}"
        self.calls = 0

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        x = np.asarray(inputs, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.embedding_dim:
            raise ValueError(f"inputs of shape {x.shape} do not fit (N, {self.embedding_dim})")
        self.calls += 1
        return x @ self.matrix

    def load(self, sources: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        spec = ModelSpec(
            encoder="mlp", input_shape=[self.embedding_dim], kind="vector", embedding_dim=4
        )
        x, names = load_inputs(list(sources), spec)
        return x.numpy(), names


class TextEmbedder:
    """An Embedder of texts: counts of the letters a-d (enough to tell test texts apart)."""

    kind = "text"
    embedding_dim = 4
    distance = "euclidean"
    threshold = 1.5
    fingerprint = "letters"

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        if isinstance(inputs, np.ndarray):
            raise ValueError("this text model embeds texts, not arrays")
        return np.array([[t.count(c) for c in "abcd"] for t in inputs], dtype=np.float32).reshape(
            -1, 4
        )
