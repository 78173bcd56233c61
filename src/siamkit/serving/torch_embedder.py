"""A trained run directory as an :class:`~siamkit.embedder.Embedder` (PyTorch, CPU).

Example:
    >>> emb = TorchRunEmbedder.load("runs/demo")
    >>> emb.embed(np.zeros((2, 1, 8, 8), np.float32)).shape
    (2, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from siamkit.embedder import fingerprint_weights
from siamkit.evaluation.embed import embed_all
from siamkit.training.checkpoint import LoadedRun, load_run


class TorchRunEmbedder:
    """Embeds with the best checkpoint of a run (satisfies the Embedder protocol).

    Attributes:
        run: The loaded run (model, config, spec, metrics).
        fingerprint: :func:`~siamkit.embedder.fingerprint_weights` of the model's state dict.
        embedding_dim, kind, distance, input_shape: From the run's model spec.
    """

    def __init__(self, run: LoadedRun) -> None:
        self.run = run
        self.spec = run.spec
        self.kind = run.spec.kind
        self.embedding_dim = run.spec.embedding_dim
        self.distance = run.spec.distance
        self.input_shape = tuple(run.spec.input_shape)
        state = run.model.state_dict()
        self.fingerprint = fingerprint_weights(
            {k: v.detach().cpu().numpy() for k, v in state.items()}
        )

    @classmethod
    def load(cls, run_dir: str | Path) -> TorchRunEmbedder:
        """Load the best checkpoint of ``run_dir`` (safetensors; no pickle)."""
        return cls(load_run(run_dir))

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """``(N, C, H, W)`` images in [0, 1] or ``(N, F)`` vectors -> ``(N, D)`` float32."""
        if not isinstance(inputs, np.ndarray):
            raise ValueError(f"a {self.kind} model embeds arrays, not {type(inputs).__name__}")
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        return embed_all(self.run.model, x).numpy()  # (N, D)

    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """``(B,)`` distances between rows of two ``(B, D)`` embedding arrays, by the run's
        own distance object (learned ones included)."""
        with torch.inference_mode():
            d = self.run.model.distance.pairwise(torch.from_numpy(a), torch.from_numpy(b))
        return d.double().numpy()

    @property
    def larger_is_closer(self) -> bool:
        """Whether the run's distance is a similarity."""
        return bool(self.run.model.distance.larger_is_closer)
