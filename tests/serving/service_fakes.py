"""Small hand-checkable fake models and helpers for the service tests."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from index.fakes import FakeModel
from siamkit.run import ProbabilityMap
from siamkit.serving import DecisionRule

KEY = "k" * 8 + "-test-key-0123456789"  # >= 16 characters


class _FakeModel(FakeModel):
    """The index fakes' shared parts, with no threshold unless a test sets one."""

    threshold: float | None = None

    def load(self, sources: Sequence[str]) -> tuple[list[str], list[str]]:
        raise ValueError("the fake models read no files")


class LinearEmbedder(_FakeModel):
    """A vector model: ``x @ W`` with a hand-set W (no normalisation), euclidean distance."""

    kind = "vector"
    fingerprint = "fake-linear"

    def __init__(self, w: npt.NDArray[np.float32]) -> None:
        self.w = w.astype(np.float32)
        self.input_shape = (w.shape[0],)
        self.embedding_dim = w.shape[1]
        self.calls: list[int] = []

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        x = np.asarray(inputs, dtype=np.float32)
        self.calls.append(len(x))
        return x @ self.w


class TextEmbedder(_FakeModel):
    """A text model: letter counts a..d (4-D), euclidean distance."""

    kind = "text"
    fingerprint = "fake-text"
    embedding_dim = 4
    input_shape = ()

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        assert isinstance(inputs, list)
        return np.array([[t.count(c) for c in "abcd"] for t in inputs], dtype=np.float32)


def platt_rule(metric: str = "euclidean", threshold: float = 1.0) -> DecisionRule:
    """Threshold 1 and P(same) = sigmoid(-4 d + 4): 0.5 exactly at d = 1."""
    pm = ProbabilityMap("platt", coef=-4.0, intercept=4.0)
    return DecisionRule(metric, threshold, False, pm)


def png_bytes(arr: npt.NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
