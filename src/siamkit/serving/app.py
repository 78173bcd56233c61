"""The FastAPI application: endpoints, limits, metrics and errors put together.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.run import load_embedder
    >>> embedder = load_embedder("runs/digits")
    >>> app = create_app(embedder, embedder.decision_rule(), ServiceConfig(read_only=True))
    >>> with TestClient(app) as client:  # runs the lifespan: starts the micro-batcher
    ...     answer = client.post("/embed", json={"inputs": [{"text": "hello"}]})
    >>> answer.status_code, answer.json()["error"]["code"]  # every refusal has this shape
    (422, 'wrong_modality')

    Serve it with ``uvicorn.run(app, host="127.0.0.1", port=8000)``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from siamkit.run import DecisionRule
from siamkit.serving.body import install_openapi
from siamkit.serving.body_limit import BodyLimitMiddleware
from siamkit.serving.config import ServiceConfig
from siamkit.serving.errors import error_response, install_error_handlers
from siamkit.serving.metrics import MetricsMiddleware
from siamkit.serving.routes_gallery import router as gallery_router
from siamkit.serving.routes_model import router as model_router
from siamkit.serving.state import ServiceState

log = logging.getLogger("siamkit.serving")


def create_app(
    embedder: Any,
    rule: DecisionRule,
    config: ServiceConfig | None = None,
    gallery: Any | None = None,
) -> FastAPI:
    """Build the service for one model (and optionally one gallery).

    Args:
        embedder: Any :class:`~siamkit.run.Embedder` (a torch run or an ONNX file).
        rule: Distances, threshold and probability map (the model's own:
            :meth:`Embedder.decision_rule <siamkit.run.Embedder.decision_rule>`).
        config: Limits, batching and security. The default has no API key and is refused
            (:meth:`ServiceConfig.check`): give a key, ``read_only`` or ``insecure_local``.
        gallery: A :class:`siamkit.index.Gallery` for the gallery endpoints, or None.

    Raises:
        ValueError: Insecure or invalid settings (see :meth:`ServiceConfig.check`), or a model
            the service cannot feed.
    """

    config = config or ServiceConfig()
    config.check()
    state = ServiceState(embedder, rule, config, gallery)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="siamkit",
        summary="Verification and identification with a trained Siamese network.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(
            500, "internal_error", f"the service failed on this request ({type(exc).__name__})"
        )

    app.include_router(model_router)
    app.include_router(gallery_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    templates = [(r.path_regex, r.path) for r in (*model_router.routes, *gallery_router.routes)]  # type: ignore[attr-defined]
    # outermost: counts the body limit's 413s too
    app.add_middleware(MetricsMiddleware, metrics=state.metrics, templates=templates)
    install_openapi(app)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("siamkit")
    except PackageNotFoundError:
        return "0"
