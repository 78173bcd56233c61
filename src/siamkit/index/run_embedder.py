"""A trained run directory as an :class:`~siamkit.run.Embedder` (PyTorch).

The gallery, ``siamkit identify``/``verify`` and the REST service all embed a run through this
one class.

Example:
    >>> emb = RunEmbedder("runs/digits")
    >>> x, names = emb.load(["a.png", "b.png"])  # (2, 1, 8, 8) float32
    >>> emb.embed(x).shape
    (2, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from siamkit.run import fingerprint_weights

if TYPE_CHECKING:
    from siamkit.models.spec import ModelSpec
    from siamkit.run import Calibration
    from siamkit.training.checkpoint import LoadedRun

TEXT_BATCH = 64  # texts per forward pass (each batch is padded to its longest text)


class RunEmbedder:
    """Embeds with the best checkpoint of a run directory.

    Attributes:
        run_dir: The run directory.
        run: The loaded run (model in eval mode, config, spec, metrics).
        spec: The run's model spec; ``input_shape`` is its item shape (``()`` read as the
            shape of one id row for text).
        fingerprint: :func:`~siamkit.run.fingerprint_weights` of the checkpoint's state
            dict (the ONNX export of the same weights carries the same fingerprint).
        embedding_dim: D.
        kind: ``image``, ``vector`` or ``text`` (what :meth:`embed` and :meth:`load` take).
        distance: The run's distance name.
        calibration: The run's calibration, or None if not calibrated.
        threshold: The calibrated threshold, else the validation threshold, else None.

    Args:
        run_dir: A run from ``siamkit train``.
        checkpoint: ``best`` (default) or ``last``.
        batch_size: Images or vectors per forward pass.

    Raises:
        ValueError: Not a finished run directory.
    """

    def __init__(
        self, run_dir: str | Path, checkpoint: str = "best", batch_size: int = 512
    ) -> None:
        from siamkit.run import Calibration
        from siamkit.training.checkpoint import load_run

        self.run_dir = Path(run_dir)
        self.run: LoadedRun = load_run(self.run_dir, checkpoint)
        self.run.model.eval()
        self.spec: ModelSpec = self.run.spec
        state = self.run.model.state_dict()
        self.fingerprint = fingerprint_weights(
            {k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}
        )
        self.embedding_dim = int(self.spec.embedding_dim)
        self.kind = str(self.spec.kind)
        self.distance = str(self.spec.distance)
        self.input_shape = tuple(self.spec.input_shape)
        self.batch_size = batch_size
        self._text: Any = None
        if self.kind == "text":  # texts: the run's tokenizer (loaded once), then its encoder
            from siamkit.models.text_embedder import TextEmbedder

            self._text = TextEmbedder(self.run.model, self.spec, TEXT_BATCH)
        self.calibration: Calibration | None = Calibration.load(self.run_dir)
        threshold = self.run.metrics.get("threshold")
        if self.calibration is not None:
            threshold = self.calibration.threshold
        self.threshold: float | None = None if threshold is None else float(threshold)

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed a batch: images ``(N, C, H, W)`` in [0, 1], vectors ``(N, F)`` or N texts.

        Returns:
            ``(N, D)`` float32 embeddings.

        Raises:
            ValueError: One string instead of a list of texts, texts for an image or vector
                model, or a batch whose item shape is not the model's.
        """
        import torch

        from siamkit.evaluation.embed import embed_all

        if self._text is not None:
            if isinstance(inputs, str) or (isinstance(inputs, np.ndarray) and inputs.ndim != 1):
                raise ValueError(
                    "a text model embeds a list of texts, not one string; wrap it: [text]"
                )
            result: npt.NDArray[np.float32] = self._text.embed([str(t) for t in inputs])
            return result
        if not isinstance(inputs, np.ndarray):
            raise ValueError(
                f"this {self.kind} model embeds arrays, not {type(inputs).__name__}; "
                "load files first with .load()"
            )
        expected = self.input_shape
        if inputs.ndim != len(expected) + 1 or tuple(inputs.shape[1:]) != expected:
            raise ValueError(
                f"inputs of shape {tuple(inputs.shape)} do not fit this {self.kind} model, "
                f"which takes (N, {', '.join(map(str, expected))})"
            )
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        emb = embed_all(self.run.model, x, batch_size=self.batch_size)  # (N, D)
        return emb.numpy().astype(np.float32, copy=False)

    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """``(B,)`` distances between rows of two ``(B, D)`` embedding arrays, by the run's
        own distance object (learned ones included)."""
        import torch

        with torch.inference_mode():
            d = self.run.model.distance.pairwise(torch.from_numpy(a), torch.from_numpy(b))
        return d.double().numpy()

    @property
    def larger_is_closer(self) -> bool:
        """Whether the run's distance is a similarity."""
        return bool(self.run.model.distance.larger_is_closer)

    def load(self, sources: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        """Read files for this model: images (files or folders) or ``.npy`` / ``.csv`` vectors.

        Returns:
            The batch ``(N, ...)`` and one name per item (the file, ``file.csv:ROW`` or
            ``file.npy[I]``).

        Raises:
            ValueError: A file that is missing, unreadable or of the wrong modality, named.
        """
        from siamkit.data.inputs import load_inputs

        x, names = load_inputs(list(sources), self.spec, self.run.config.on_mismatch)
        return x.numpy().astype(np.float32, copy=False), names
