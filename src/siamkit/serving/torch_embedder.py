"""A trained run directory as an :class:`~siamkit.embedder.Embedder` (PyTorch, CPU).

Example:
    >>> emb = TorchRunEmbedder.load("runs/demo")
    >>> emb.embed(np.zeros((2, 1, 8, 8), np.float32)).shape
    (2, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from siamkit.embedder import fingerprint_weights
from siamkit.training.checkpoint import LoadedRun, load_run


class TorchRunEmbedder:
    """Embeds with the best checkpoint of a run (satisfies the Embedder protocol).

    Attributes:
        run: The loaded run (model, config, spec, metrics).
        fingerprint: :func:`~siamkit.embedder.fingerprint_weights` of the model's state dict.
        embedding_dim, kind, distance, input_shape: From the run's model spec (a text run
            embeds lists of texts with its own tokenizer).
    """

    def __init__(self, run: LoadedRun) -> None:
        self.run = run
        self.spec = run.spec
        self.kind = run.spec.kind
        self.embedding_dim = run.spec.embedding_dim
        self.distance = run.spec.distance
        self.input_shape = tuple(run.spec.input_shape)
        self.batch_size = 512
        run.model.eval()
        self._nhwc = any(
            p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last)
            for p in run.model.parameters()
        )  # images are handed to a channels-last model in its layout
        self._text: Any = None
        if self.kind == "text":  # texts: the run's tokenizer (loaded once), then its encoder
            from siamkit.models.text_embedder import TextEmbedder

            self._text = TextEmbedder(run.model, run.spec, 64)
        state = run.model.state_dict()
        self.fingerprint = fingerprint_weights(
            {k: v.detach().cpu().numpy() for k, v in state.items()}
        )

    @classmethod
    def load(cls, run_dir: str | Path) -> TorchRunEmbedder:
        """Load the best checkpoint of ``run_dir`` (safetensors; no pickle)."""
        return cls(load_run(run_dir))

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """``(N, C, H, W)`` images in [0, 1], ``(N, F)`` vectors or N texts -> ``(N, D)``."""
        if self._text is not None:
            if isinstance(inputs, str) or (isinstance(inputs, np.ndarray) and inputs.ndim != 1):
                raise ValueError("a text model embeds a list of texts, not one string")
            result: npt.NDArray[np.float32] = self._text.embed([str(t) for t in inputs])
            return result
        if not isinstance(inputs, np.ndarray):
            raise ValueError(f"a {self.kind} model embeds arrays, not {type(inputs).__name__}")
        expected = self.input_shape
        if inputs.ndim != len(expected) + 1 or tuple(inputs.shape[1:]) != expected:
            raise ValueError(
                f"inputs of shape {tuple(inputs.shape)} do not fit this {self.kind} model, "
                f"which takes (N, {', '.join(map(str, expected))})"
            )
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        out = []
        # the model stays in eval mode (set once above), so a call is just the forward pass
        with torch.inference_mode():
            for i in range(0, len(x), self.batch_size):
                xb = x[i : i + self.batch_size]
                if self._nhwc and xb.dim() == 4:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                out.append(self.run.model.embed(xb).float())
        return torch.cat(out).numpy()  # (N, D)

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
