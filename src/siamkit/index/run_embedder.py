"""A trained run directory as an :class:`~siamkit.embedder.Embedder` (PyTorch).

Example:
    >>> emb = RunEmbedder("runs/digits")
    >>> x, names = emb.load(["a.png", "b.png"])  # (2, 1, 8, 8) float32
    >>> emb.embed(x).shape
    (2, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from siamkit.embedder import fingerprint_weights

if TYPE_CHECKING:
    from siamkit.evaluation.calibrated_run import Calibration


class RunEmbedder:
    """Embeds with the best checkpoint of a run directory.

    Attributes:
        run_dir: The run directory.
        fingerprint: :func:`~siamkit.embedder.fingerprint_weights` of the checkpoint's state
            dict (the ONNX export of the same weights carries the same fingerprint).
        embedding_dim: D.
        kind: ``image`` or ``vector`` (what :meth:`embed` and :meth:`load` take).
        distance: The run's distance name.
        calibration: The run's calibration, or None if not calibrated.
        threshold: The calibrated threshold, else the validation threshold, else None.

    Args:
        run_dir: A run from ``siamkit train``.
        checkpoint: ``best`` (default) or ``last``.
        batch_size: Items per forward pass.

    Raises:
        ValueError: Not a finished run directory.
    """

    def __init__(
        self, run_dir: str | Path, checkpoint: str = "best", batch_size: int = 512
    ) -> None:
        from siamkit.evaluation.calibrated_run import Calibration
        from siamkit.training.checkpoint import load_run

        self.run_dir = Path(run_dir)
        self._run = load_run(self.run_dir, checkpoint)
        state = self._run.model.state_dict()
        self.fingerprint = fingerprint_weights(
            {k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}
        )
        self.embedding_dim = int(self._run.spec.embedding_dim)
        self.kind = str(self._run.spec.kind)
        self.distance = str(self._run.spec.distance)
        self.batch_size = batch_size
        self.calibration: Calibration | None = Calibration.load(self.run_dir)
        threshold = self._run.metrics.get("threshold")
        if self.calibration is not None:
            threshold = self.calibration.threshold
        self.threshold: float | None = None if threshold is None else float(threshold)

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed a batch: images ``(N, C, H, W)`` in [0, 1] or vectors ``(N, F)``.

        Returns:
            ``(N, D)`` float32 embeddings.

        Raises:
            ValueError: Texts, or a batch whose item shape is not the model's.
        """
        import torch

        from siamkit.evaluation.embed import embed_all

        if self.kind == "text":  # texts: the run's tokenizer, then its encoder
            from siamkit.models.text_embedder import TextEmbedder

            text = TextEmbedder(self._run.model, self._run.spec, self.batch_size)
            return text.embed([str(t) for t in inputs])
        if not isinstance(inputs, np.ndarray):
            raise ValueError(
                f"this {self.kind} model embeds arrays, not {type(inputs).__name__}; "
                "load files first with .load()"
            )
        expected = tuple(self._run.spec.input_shape)
        if inputs.ndim != len(expected) + 1 or tuple(inputs.shape[1:]) != expected:
            raise ValueError(
                f"inputs of shape {tuple(inputs.shape)} do not fit this {self.kind} model, "
                f"which takes (N, {', '.join(map(str, expected))})"
            )
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        emb = embed_all(self._run.model, x, batch_size=self.batch_size)  # (N, D)
        return emb.numpy().astype(np.float32, copy=False)

    def load(self, sources: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        """Read files for this model: images (files or folders) or ``.npy`` / ``.csv`` vectors.

        Returns:
            The batch ``(N, ...)`` and one name per item (the file, ``file.csv:ROW`` or
            ``file.npy[I]``).

        Raises:
            ValueError: A file that is missing, unreadable or of the wrong modality, named.
        """
        from siamkit.data.inputs import load_inputs

        x, names = load_inputs(list(sources), self._run.spec, self._run.config.on_mismatch)
        return x.numpy().astype(np.float32, copy=False), names
