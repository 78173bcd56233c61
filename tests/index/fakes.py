"""Test doubles for the gallery: a transparent vector embedder and a letter-count text embedder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from siamkit.data.inputs import load_inputs
from siamkit.models.spec import ModelSpec
from siamkit.readers import read_texts
from siamkit.run import DecisionRule
from siamkit.runtime.distances import pair_distances


class FakeModel:
    """What the fakes share: numpy pair distances, no calibration, a rule at ``threshold``
    (none when it is None)."""

    distance = "euclidean"
    threshold: float | None = 1.0
    larger_is_closer = False
    source = ""
    calibration = None
    prepare_image = None

    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        return pair_distances(a, b, self.distance)

    def decision_rule(self) -> DecisionRule | None:
        if self.threshold is None:
            return None
        return DecisionRule(self.distance, self.threshold, False, None, "model")


class VectorEmbedder(FakeModel):
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
        self.input_shape = (dim,)
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


class TextEmbedder(FakeModel):
    """An Embedder of texts: counts of the letters a-d (enough to tell test texts apart)."""

    kind = "text"
    embedding_dim = 4
    threshold = 1.5
    fingerprint = "letters"
    input_shape = ()

    def load(self, sources: Sequence[str]) -> tuple[list[str], list[str]]:
        return read_texts(sources)

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        if isinstance(inputs, np.ndarray):
            raise ValueError("this text model embeds texts, not arrays")
        return np.array([[t.count(c) for c in "abcd"] for t in inputs], dtype=np.float32).reshape(
            -1, 4
        )
