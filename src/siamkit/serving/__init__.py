"""The REST service: verification and identification over HTTP (FastAPI + uvicorn).

Needs the ``serve`` extra (``pip install 'siamkit[serve]'``). Start it from the command line
with ``siamkit serve RUN --gallery DIR``, or build the app in Python:

Example:
    >>> from siamkit.serving import ServiceConfig, load_service
    >>> app = load_service("runs/demo", config=ServiceConfig(insecure_local=True))
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)
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
