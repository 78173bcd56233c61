"""The service's calls into a :class:`siamkit.index.Gallery`, and its errors as HTTP answers.

Every call runs on the service's gallery thread. Gallery errors become 4xx answers: an unknown
id or label 404, embeddings of another model 409, a label or metadata over its limit 413, any
other bad input 422.

Example:
    >>> import asyncio
    >>> from siamkit.index import Gallery
    >>> from siamkit.serving import ServiceConfig
    >>> gallery = Gallery.create("gallery", "runs/digits")
    >>> ids = gallery.enroll(["people/"])  # people/zero/*.png, people/one/*.png
    >>> embedder = gallery.embedder
    >>> config = ServiceConfig(read_only=True)
    >>> state = ServiceState(embedder, embedder.decision_rule(), config, gallery)
    >>> async def identify(path, k):
    ...     await state.start()  # the app's lifespan does this
    ...     try:
    ...         images, _ = embedder.load([path])
    ...         return await GalleryCalls(state).identify(embedder.embed(images), k)
    ...     finally:
    ...         await state.stop()
    >>> [match.label for match in asyncio.run(identify("a.png", k=2)).matches]
    ['zero', 'one']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from siamkit.index import GalleryError, ModelMismatchError, UnknownItemError, UnknownLabelError
from siamkit.index.errors import GalleryReembeddedError, ItemTooLargeError
from siamkit.serving.errors import ServiceError
from siamkit.serving.schemas import IdentifyResponse, Item, Match
from siamkit.serving.state import ServiceState

T = TypeVar("T")


class GalleryCalls:
    """Gallery operations for one request.

    Args:
        state: The service; its gallery must be loaded.

    Raises:
        ServiceError: 503 when the service runs without a gallery.
    """

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.gallery = state.require_gallery()

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def checked() -> T:
            self.state.current(self.gallery)  # refuse once the store's model changed
            return fn(*args, **kwargs)

        with _as_http_errors():
            return await self.state.in_gallery_thread(checked)

    async def identify(self, embeddings: npt.NDArray[np.float32], k: int) -> IdentifyResponse:
        """Open-set identification of one query embedding ``(1, D)``."""
        with _as_http_errors():
            (result,) = await self.state.identify(embeddings, k)
        matches = [
            Match(
                id=c.item_id,
                label=c.label,
                distance=c.distance,
                probability=c.probability,
                same=c.accepted,
            )
            for c in result.candidates
        ]
        return IdentifyResponse(label=result.label, known=not result.unknown, matches=matches)

    async def enroll(
        self,
        embeddings: npt.NDArray[np.float32],
        labels: list[str],
        metadata: list[dict[str, Any]],
    ) -> list[int]:
        """Store ``(N, D)`` embeddings in one go; returns their ids."""
        ids: list[int] = await self._call(
            self.gallery.enroll_embeddings,
            embeddings,
            labels,
            metadata=metadata,
            fingerprint=self.state.embedder.fingerprint,
        )
        return ids

    async def get(self, item_id: int, full_source: bool = False) -> Item:
        """One stored item (without its embedding).

        Args:
            item_id: The item.
            full_source: Return the stored source as is (a server path, or the text); else
                only a file's name, and nothing for a text or an embedding.
        """
        it = await self._call(self.gallery.get, item_id)
        return Item(
            id=it.id,
            label=it.label,
            metadata=it.metadata,
            source=it.source if full_source else shown_source(it.source, it.source_kind),
            created_at=it.created_at,
            fingerprint=it.fingerprint,
        )

    async def remove(self, item_id: int) -> None:
        """Remove one item."""
        await self._call(self.gallery.remove, item_id)

    async def similar(self, item_id: int, k: int) -> list[Match]:
        """The ``k`` items nearest a stored item, with the calibrated probability."""
        found = await self._call(self.gallery.similar, item_id, k)
        d = np.array([n.distance for n in found], dtype=np.float64)
        probs = self.state.rule.probability(d) if len(d) else None
        threshold = float(self.gallery.threshold)
        return [
            Match(
                id=n.item_id,
                label=n.label,
                distance=n.distance,
                probability=None if probs is None else float(probs[i]),
                same=n.distance <= threshold,
            )
            for i, n in enumerate(found)
        ]

    async def count(self) -> int:
        """Items in the gallery."""
        return await self._call(len, self.gallery)


def shown_source(source: str | None, source_kind: str) -> str | None:
    """What a client may see of a stored source: a file's name without its server folders
    (``/srv/people/ann/1.png`` -> ``1.png``, ``/srv/x.csv:4`` -> ``x.csv:4``); None for a text
    (it may be private) or an embedding."""
    if source is None or source_kind != "file":
        return None
    return PurePath(source).name


@contextmanager
def _as_http_errors() -> Iterator[None]:
    """Gallery errors as 4xx ServiceErrors."""

    try:
        yield
    except (UnknownItemError, UnknownLabelError) as e:
        raise ServiceError(404, "unknown_item", str(e)) from None
    except GalleryReembeddedError as e:
        raise ServiceError(409, "gallery_reembedded", str(e)) from None
    except ModelMismatchError as e:
        raise ServiceError(409, "model_mismatch", str(e)) from None
    except ItemTooLargeError as e:
        raise ServiceError(413, "item_too_large", str(e)) from None
    except GalleryError as e:
        raise ServiceError(422, "gallery_refused", str(e)) from None
