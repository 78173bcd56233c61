"""The REST service: verification and identification over HTTP (FastAPI + uvicorn).

Needs the ``serve`` extra (``pip install 'siamkit[serve]'``). Start it from the command line
with ``siamkit serve RUN --gallery DIR``, or build the app in Python and serve it with
``uvicorn.run(app, host="127.0.0.1", port=8000)``. FastAPI's ``TestClient`` calls it without a
server:

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.serving import ServiceConfig, load_service
    >>> app = load_service("runs/digits", config=ServiceConfig(insecure_local=True))
    >>> with TestClient(app) as client:
    ...     health = client.get("/healthz").json()
    >>> health["status"], health["kind"], health["embedding_dim"], health["gallery_items"]
    ('ok', 'image', 16, None)
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the siamkit service needs FastAPI and uvicorn: pip install 'siamkit[serve]'"
    ) from e

from siamkit.run import DecisionRule
from siamkit.serving.app import create_app
from siamkit.serving.batcher import MicroBatcher
from siamkit.serving.config import API_KEY_ENV, ServiceConfig, is_loopback
from siamkit.serving.loader import load_service

__all__ = [
    "API_KEY_ENV",
    "DecisionRule",
    "MicroBatcher",
    "ServiceConfig",
    "create_app",
    "is_loopback",
    "load_service",
]
