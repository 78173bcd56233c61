"""The model a gallery embeds with: its own (same fingerprint), loaded when first needed.

A gallery only ever holds embeddings of one model. :class:`ModelBinding` keeps that model,
refuses another one, embeds with it and checks what comes back (or what a caller passes as
precomputed embeddings) against the gallery's dimension. :func:`embed_sources` re-reads stored
sources for a re-embed with a new model.

Example:
    >>> from siamkit.index import Gallery
    >>> g = Gallery.create("gal", "runs/digits")
    >>> binding = ModelBinding(lambda: g.settings, g.path)
    >>> batch, names = binding.embedder.load(["a.png", "b.png"])  # the gallery's own model
    >>> binding.embed(binding.embedder, batch).shape  # (N, D) float32, finite
    (2, 16)
    >>> binding.check(np.zeros((1, 3), np.float32))
    Traceback (most recent call last):
        ...
    siamkit.index.errors.GalleryError: embeddings must have shape (N, 16) with N >= 1; got (1, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from siamkit.index.binding import as_embedder, recorded_model
from siamkit.index.errors import GalleryError, GalleryReembeddedError, ModelMismatchError
from siamkit.index.gallery_settings import GallerySettings
from siamkit.index.inputs import source_file
from siamkit.run import Embedder


class ModelBinding:
    """A gallery's model: checked against the gallery's fingerprint, loaded lazily.

    Args:
        settings: The gallery's current settings (they change when the store is re-embedded).
        root: The gallery directory, against which the recorded model path is resolved.

    Attributes:
        loaded: The bound embedder; None until bound or first needed.
    """

    def __init__(self, settings: Callable[[], GallerySettings], root: Path) -> None:
        self._settings = settings
        self._root = root  # the gallery folder: recorded model paths are relative to it
        self.loaded: Embedder | None = None
        self._from_settings = False  # loaded from the gallery's recorded model, not given

    def bind(self, embedder: Embedder) -> None:
        """Embed with ``embedder`` from now on.

        Raises:
            ModelMismatchError: It is another model than the gallery's.
        """
        settings = self._settings()
        if embedder.fingerprint != settings.fingerprint:
            where = f" ({embedder.source})" if embedder.source else ""
            raise ModelMismatchError(
                f"this gallery holds embeddings of model {settings.fingerprint}"
                f"{' from ' + settings.model if settings.model else ''}; the given model{where} is "
                f"{embedder.fingerprint}; use the gallery's model, or re-embed the gallery with "
                "`siamkit gallery reembed DIR --model RUN`"
            )
        self.loaded = embedder
        self._from_settings = False

    @property
    def embedder(self) -> Embedder:
        """The gallery's model (loaded from its run directory on first use)."""
        settings = self._settings()
        if (
            self.loaded is not None
            and self._from_settings
            and self.loaded.fingerprint != settings.fingerprint
        ):
            self.loaded = None  # re-embedded elsewhere: load the model the store now records
        if self.loaded is None:
            model = settings.model
            if not model:
                raise GalleryError(
                    "this gallery was created from a model object, not a run directory; open it "
                    "with embedder=... to embed inputs"
                )
            try:
                self.bind(as_embedder(recorded_model(model, self._root)))
            except ModelMismatchError:
                raise
            except ValueError as e:
                raise GalleryError(
                    f"the gallery's model {model} cannot be loaded ({e}); if it moved, open the "
                    "gallery with embedder=NEW_PATH (CLI: --model NEW_PATH); its fingerprint is "
                    "still checked"
                ) from None
            self._from_settings = True
        assert self.loaded is not None
        return self.loaded

    def require(self, fingerprint: str) -> None:
        """Refuse a caller's model once the store holds another model's embeddings.

        Raises:
            GalleryReembeddedError: The gallery was re-embedded with another model.
        """
        settings = self._settings()
        if fingerprint != settings.fingerprint:
            raise GalleryReembeddedError(
                f"the gallery was re-embedded with model {settings.fingerprint}"
                f"{' (' + settings.model + ')' if settings.model else ''}; this process embeds "
                f"with model {fingerprint}, whose embeddings no longer compare with the stored "
                "ones: restart the service (or reopen the gallery) with that model"
            )

    def embed(self, embedder: Embedder, x: Any) -> npt.NDArray[np.float32]:
        """``embedder``'s embeddings ``(N, D)`` of a batch, checked.

        Raises:
            GalleryError: The model refused the inputs, or returned a wrong shape or NaN.
        """
        try:
            emb = embedder.embed(x)
        except ValueError as e:
            raise GalleryError(str(e)) from None
        return self.check(np.asarray(emb, dtype=np.float32))

    def check(self, emb: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Embeddings ``(N, D)`` (a single ``(D,)`` becomes ``(1, D)``) of the gallery's size.

        Raises:
            GalleryError: Another dimension, no rows, or NaN/infinite values.
        """
        dim = self._settings().embedding_dim
        if emb.ndim == 1:
            emb = emb[None, :]
        if emb.ndim != 2 or emb.shape[1] != dim or len(emb) == 0:
            raise GalleryError(
                f"embeddings must have shape (N, {dim}) with N >= 1; got {emb.shape}"
            )
        if not np.isfinite(emb).all():
            raise GalleryError("embeddings contain NaN or infinite values; nothing was enrolled")
        return emb


def embed_sources(embedder: Embedder, sources: list[str]) -> npt.NDArray[np.float32]:
    """Embeddings ``(N, D)`` of stored file sources, read again with ``embedder``'s loader.

    Each file is read once, however many of its rows (CSV, ``.npy``) are sources.

    Raises:
        GalleryError: The model cannot read files, a file or source is no longer readable, or
            the model returned a wrong shape or NaN; nothing was changed.
    """
    loader = embedder.load
    by_name: dict[str, np.ndarray] = {}
    files = sorted({source_file(s) for s in sources})
    for f in files:
        try:
            x, names = loader([f])
        except ValueError as e:
            raise GalleryError(f"cannot re-embed from {f}: {e}") from None
        by_name.update(zip(names, x, strict=True))
    missing = [s for s in sources if s not in by_name]
    if missing:
        raise GalleryError(f"source {missing[0]} is no longer readable; nothing was changed")
    x = np.stack([by_name[s] for s in sources])
    emb = np.asarray(embedder.embed(x), dtype=np.float32)
    if emb.shape != (len(sources), embedder.embedding_dim) or not np.isfinite(emb).all():
        raise GalleryError(f"the new model returned embeddings of shape {emb.shape} or NaN")
    return emb
