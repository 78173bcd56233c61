"""What one running service holds: the model, its decision rule, the gallery and the limits.

Gallery calls run on one dedicated thread, one at a time, so the event loop never blocks on
SQLite or FAISS and the gallery never sees two writers from this process at once. Concurrent
identification queries with the same ``k`` are micro-batched into one gallery search, as
embeddings are into one model call.

Example:
    >>> from pathlib import Path
    >>> from siamkit.run import load_embedder
    >>> embedder = load_embedder("runs/digits")
    >>> state = ServiceState(embedder, embedder.decision_rule(), ServiceConfig(read_only=True))
    >>> async def embed(*paths):
    ...     await state.start()  # the app's lifespan does this
    ...     try:
    ...         inputs = [RawInput("image", Path(p).read_bytes(), f"file {p}") for p in paths]
    ...         return await state.embed(inputs)
    ...     finally:
    ...         await state.stop()
    >>> asyncio.run(embed("a.png", "b.png")).shape
    (2, 16)
    >>> state.require_gallery()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    siamkit.serving.errors.ServiceError: this service runs without a gallery; start it with ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from starlette.requests import Request

from siamkit.run import DecisionRule, Embedder
from siamkit.serving.batcher import MicroBatcher
from siamkit.serving.config import ServiceConfig
from siamkit.serving.decode import InputDecoder, RawInput, model_input_shape
from siamkit.serving.errors import ServiceError
from siamkit.serving.metrics import ServiceMetrics

T = TypeVar("T")


class ServiceState:
    """The parts of a service, shared by its endpoints (``request.app.state.service``).

    Args:
        embedder: Any :class:`~siamkit.run.Embedder`.
        rule: Distances and the calibrated decision.
        config: Limits, batching, security.
        gallery: A :class:`siamkit.index.Gallery` (or an object with its methods, among them
            ``require_model``), or None.
    """

    def __init__(
        self,
        embedder: Embedder,
        rule: DecisionRule,
        config: ServiceConfig,
        gallery: Any | None = None,
    ) -> None:
        self.embedder = embedder
        self.rule = rule
        self.config = config
        self.gallery = gallery
        self.metrics = ServiceMetrics()
        self.decoder = InputDecoder(
            embedder.kind,
            model_input_shape(embedder),
            config,
            prepare=embedder.prepare_image,
        )
        self.batcher = MicroBatcher(
            embedder.embed, config.max_batch, config.max_wait_ms, self.metrics.observe_batch
        )
        self._gallery_thread: ThreadPoolExecutor | None = _gallery_executor()
        self._searches: dict[int, MicroBatcher] = {}  # k -> batcher of identification queries

    async def start(self) -> None:
        """Start the micro-batcher (called when the server starts)."""
        if self._gallery_thread is None:
            self._gallery_thread = _gallery_executor()
        await self.batcher.start()

    async def stop(self) -> None:
        """Stop the micro-batchers and the gallery thread."""
        await self.batcher.stop()
        for searches in self._searches.values():
            await searches.stop()
        self._searches.clear()
        if self._gallery_thread is not None:
            self._gallery_thread.shutdown(wait=True)
            self._gallery_thread = None

    async def embed(self, inputs: Sequence[RawInput]) -> npt.NDArray[np.float32]:
        """Check, decode and embed a request's inputs: ``(N, D)`` float32.

        Raises:
            ServiceError: 4xx for a bad input (see :class:`InputDecoder`); 422 when the model
                itself rejects an input.
        """
        if self.decoder.prepare is None:
            batch = self.decoder.batch(inputs)
        else:  # a model that prepares its own images (face detection) would stall the loop
            batch = await asyncio.to_thread(self.decoder.batch, inputs)
        try:
            out = await self.batcher.submit(batch)
        except ValueError as e:
            raise ServiceError(
                422, "model_rejected_input", f"the model rejected the input: {e}"
            ) from None
        return np.asarray(out, dtype=np.float32)

    def require_gallery(self) -> Any:
        """The gallery, or a 503 saying how to start the service with one."""
        if self.gallery is None:
            raise ServiceError(
                503,
                "no_gallery",
                "this service runs without a gallery; start it with "
                "`siamkit serve RUN --gallery DIR`",
            )
        return self.gallery

    async def identify(self, embeddings: npt.NDArray[np.float32], k: int) -> list[Any]:
        """``gallery.identify_embeddings(embeddings, k)`` for ``(Q, D)`` queries, searched
        together with other requests' queries of the same ``k`` on the gallery thread."""
        gallery = self.require_gallery()
        searches = self._searches.get(k)
        if searches is None:
            searches = MicroBatcher(
                lambda q: self.current(gallery).identify_embeddings(q, k),
                self.config.max_batch,
                self.config.max_wait_ms,
                executor=self._gallery_thread,  # one thread for every gallery call
            )
            await searches.start()
            self._searches[k] = searches
        result: list[Any] = await searches.submit(embeddings)
        return result

    def current(self, gallery: Any) -> Any:
        """``gallery``, after checking (on the gallery thread, against the store as it is now)
        that it still holds this service's model's embeddings.

        Raises:
            GalleryReembeddedError: It was re-embedded with another model, e.g. by
                ``siamkit gallery reembed`` in another process.
        """
        gallery.require_model(self.embedder.fingerprint)
        return gallery

    async def in_gallery_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the gallery thread and await its result."""
        if self._gallery_thread is None:
            raise RuntimeError("the service is not started (its lifespan did not run)")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._gallery_thread, lambda: fn(*args, **kwargs))


def service_state(request: Request) -> ServiceState:
    """The :class:`ServiceState` of the app serving ``request`` (for the route modules)."""
    state: ServiceState = request.app.state.service
    return state


def _gallery_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="siamkit-gallery")
