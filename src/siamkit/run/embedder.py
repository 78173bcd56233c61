"""What every trained model offers from outside, and the one registry that loads any of them.

An :class:`Embedder` turns inputs into ``(N, D)`` embeddings and says how to compare and decide
on them. Each kind of model registers a loader in :data:`EMBEDDERS` under the kind its folder
or file records: ``torch`` (a ``siamkit train`` / ``siamkit init`` run, image, vector or text),
``onnx`` (a ``siamkit export`` file, run without torch) and the kinds applications add (``face``:
dlib's pretrained face encoder). :func:`load_embedder` reads the kind and calls its loader, so
the gallery, the service and the CLI never ask what kind of model they hold.

This module imports neither torch nor onnxruntime.

Example:
    >>> emb = load_embedder("runs/digits")  # or "model.onnx", or a `faces init` folder
    >>> x, names = emb.load(["a.png", "b.png", "c.png"])  # two zeros and a one
    >>> e = emb.embed(x)  # (3, D)
    >>> e.shape, emb.kind, emb.distance
    ((3, 16), 'image', 'euclidean')
    >>> rule = emb.decision_rule()
    >>> rule.same(emb.pair_distances(e[[0, 0]], e[[1, 2]]))  # a with b, a with c
    array([ True, False])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from siamkit.plugins import load_plugins
from siamkit.registry import Registry
from siamkit.run.format import model_kind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from siamkit.run.calibration import Calibration
    from siamkit.run.decision import DecisionRule

MODALITIES = ("image", "vector", "text")


@runtime_checkable
class Embedder(Protocol):
    """A trained encoder seen from outside: inputs in, ``(N, D)`` float32 embeddings out.

    Attributes:
        fingerprint: Identifies the weights (:func:`~siamkit.run.fingerprint_weights`); a gallery
            refuses embeddings from a model whose fingerprint differs from its own.
        embedding_dim: D, the size of one embedding.
        kind: ``"image"``, ``"vector"`` or ``"text"``: what :meth:`embed` accepts.
        distance: Registered distance name used to compare embeddings (e.g. ``"euclidean"``).
        larger_is_closer: Whether ``distance`` is a similarity.
        input_shape: One item: ``(C, H, W)`` for images, ``(F,)`` for vectors, ``()`` for text.
        source: Where the model was loaded from (a run folder or a file), or ``""``.
        calibration: The model's calibration record, or None.
        prepare_image: For a model that sizes its own images (face detection and alignment):
            decoded PIL image and its name -> ``(C, H, W)``; None: images are resized to
            ``input_shape``.
    """

    @property
    def fingerprint(self) -> str: ...
    @property
    def embedding_dim(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def distance(self) -> str: ...
    @property
    def larger_is_closer(self) -> bool: ...
    @property
    def input_shape(self) -> tuple[int, ...]: ...
    @property
    def source(self) -> str: ...
    @property
    def calibration(self) -> Calibration | None: ...
    @property
    def prepare_image(self) -> Callable[[Any, str], npt.NDArray[np.float32]] | None: ...

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed a batch: images ``(N, C, H, W)`` in [0, 1], vectors ``(N, F)`` or N texts.

        Returns:
            ``(N, D)`` float32 embeddings (L2-normalised where the model normalises).
        """
        ...

    def load(self, sources: Sequence[str]) -> tuple[Any, list[str]]:
        """Read inputs for this model: image files or folders, ``.npy``/``.csv`` vectors, or
        texts. Returns the batch :meth:`embed` takes and one name per item.

        Raises:
            ValueError: A source that is missing, unreadable or of the wrong modality, named.
        """
        ...

    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[Any]:
        """``(B,)`` distances between rows of two ``(B, D)`` embedding arrays."""
        ...

    def decision_rule(self) -> DecisionRule | None:
        """The model's own same/different rule (its calibration, else its threshold), or None
        when it has no threshold."""
        ...


EmbedderLoader = Callable[[Path], Embedder]
EMBEDDERS: Registry[Embedder] = Registry("model kind")
EMBEDDERS.register_lazy("torch", "siamkit.run.torch_embedder:RunEmbedder")
EMBEDDERS.register_lazy("onnx", "siamkit.runtime.encoder:OnnxEncoder")


def load_embedder(path: str | Path) -> Embedder:
    """The model at ``path``, loaded by the loader registered for the kind it records.

    Args:
        path: A run folder (``siamkit train``/``init``), an application's model folder
            (``siamkit faces init``) or an exported ``.onnx`` file.

    Raises:
        ValueError: Nothing loadable at ``path``, or a kind no installed plugin provides; the
            message names the path and the kinds known.
    """
    path = Path(path)
    kind = model_kind(path)
    if kind not in EMBEDDERS:
        load_plugins()
    if kind not in EMBEDDERS:
        raise ValueError(
            f"{path} records model kind '{kind}', which no installed siamkit plugin loads; "
            f"known kinds: {', '.join(EMBEDDERS.names())}"
        )
    return EMBEDDERS.get(kind)(path)
