"""The API key that write endpoints (enroll, delete) require, and gallery reads with
``--private-reads``.

The key is read from ``X-API-Key`` or ``Authorization: Bearer KEY`` and compared with the
configured one in constant time (:func:`hmac.compare_digest`), so response timing does not
reveal how much of a guess was right.

An endpoint asks for the key with ``dependencies=[Depends(require_write)]`` (or
``require_read``).

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.serving import ServiceConfig, load_service
    >>> key = "k" * 32  # in practice: the SIAMKIT_API_KEY environment variable
    >>> app = load_service("runs/digits", config=ServiceConfig(api_key=key))
    >>> with TestClient(app) as client:
    ...     missing = client.delete("/items/1")
    ...     wrong = client.delete("/items/1", headers={"X-API-Key": "x" * 32})
    ...     right = client.delete("/items/1", headers={"Authorization": f"Bearer {key}"})
    >>> missing.status_code, missing.json()["error"]["code"], missing.headers["WWW-Authenticate"]
    (401, 'missing_api_key', 'Bearer realm="siamkit"')
    >>> wrong.status_code, wrong.json()["error"]["code"]
    (403, 'wrong_api_key')
    >>> right.status_code, right.json()["error"]["code"]  # past the key; this one has no gallery
    (503, 'no_gallery')
"""

from __future__ import annotations

import hmac

from fastapi import Request

from siamkit.serving.config import API_KEY_ENV
from siamkit.serving.errors import ServiceError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="siamkit"'}


def presented_key(request: Request) -> str | None:
    """The key the request carries, or None."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def require_write(request: Request) -> None:
    """FastAPI dependency: allow the request only if writes are on and its key is right.

    Raises:
        ServiceError: 403 in read-only mode or for a wrong key; 401 for a missing key.
    """
    config = request.app.state.service.config
    if config.read_only:
        raise ServiceError(
            403,
            "read_only",
            "this service was started with --read-only; enroll and delete are refused",
        )
    if config.api_key is None:  # insecure_local on a loopback address, checked at start
        return
    _check_key(request, config.api_key, "this endpoint changes the gallery")


def require_read(request: Request) -> None:
    """FastAPI dependency for gallery reads: the key, when the service was started with
    ``--private-reads`` (``require_key_for_reads``); anyone otherwise.

    Raises:
        ServiceError: 401 for a missing key, 403 for a wrong one.
    """
    config = request.app.state.service.config
    if config.require_key_for_reads and config.api_key is not None:
        _check_key(request, config.api_key, "this service keeps its gallery private (reads)")


def has_key(request: Request) -> bool:
    """Whether the request carries the configured key (False when there is none)."""
    expected = request.app.state.service.config.api_key
    given = presented_key(request)
    return (
        expected is not None
        and given is not None
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def _check_key(request: Request, expected: str, why: str) -> None:
    given = presented_key(request)
    if given is None:
        raise ServiceError(
            401,
            "missing_api_key",
            f"{why} and needs the API key: send it as "
            f"`X-API-Key: KEY` or `Authorization: Bearer KEY` (the server's {API_KEY_ENV})",
            headers=CHALLENGE,
        )
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ServiceError(
            403, "wrong_api_key", f"the API key sent does not match the server's {API_KEY_ENV}"
        )
