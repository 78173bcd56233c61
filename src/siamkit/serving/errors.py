"""Every refusal is a JSON body ``{"error": {"code": ..., "message": ...}}`` with a 4xx status.

The ``code`` is a stable word a client can branch on; the ``message`` says what was received
and how to fix it.

Example:
    >>> raise ServiceError(422, "vector_length", "vector 0 has 3 values; the model takes 64")
    Traceback (most recent call last):
        ...
    siamkit.serving.errors.ServiceError: vector 0 has 3 values; the model takes 64

    The app's handlers (:func:`install_error_handlers`) answer it with status 422 and this body:

    >>> error_body("vector_length", "vector 0 has 3 values; the model takes 64")
    {'error': {'code': 'vector_length', 'message': 'vector 0 has 3 values; the model takes 64'}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ServiceError(Exception):
    """A request the service refuses: HTTP status, a stable code and a readable message.

    Args:
        status: HTTP status (4xx for the client's mistakes, 503 when a part is not loaded).
        code: Short machine-readable reason, e.g. ``image_undecodable``.
        message: What was received, what is valid, how to fix it.
        headers: Extra response headers (``WWW-Authenticate`` for 401).
    """

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, **extra}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSONResponse holding :func:`error_body`."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Route ServiceError, validation errors and HTTP errors to the one JSON error shape."""

    async def service_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        message = "invalid request: " + "; ".join(problems) + " (see /docs for the schema)"
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        body = error_body("invalid_request", message, fields=fields)
        return JSONResponse(body, status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), headers)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
