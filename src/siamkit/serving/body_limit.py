"""Refuse request bodies over a size limit before reading them whole (ASGI middleware).

A declared ``Content-Length`` over the limit is refused at once, unread. A body without one
(chunked) is counted as it streams in; the request is stopped with 413 as soon as the count
passes the limit, so an oversize upload never sits in memory.

Example:
    >>> from fastapi import FastAPI, Request
    >>> from fastapi.testclient import TestClient
    >>> app = FastAPI()
    >>> @app.post("/size")
    ... async def size(request: Request) -> int:
    ...     return len(await request.body())
    >>> app.add_middleware(BodyLimitMiddleware, max_bytes=10)
    >>> client = TestClient(app)
    >>> client.post("/size", content=b"0123456789").json()
    10
    >>> refused = client.post("/size", content=b"0123456789!")
    >>> refused.status_code, refused.json()["error"]["code"]
    (413, 'body_too_large')
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from siamkit.serving.errors import error_response


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the streamed body passes the limit."""


class BodyLimitMiddleware:
    """ASGI middleware answering 413 (``body_too_large``) for bodies over ``max_bytes``.

    Args:
        app: The wrapped application.
        max_bytes: Largest body accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, f"declares {declared} bytes")
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:  # too late to answer; the server closes the connection
                raise
            await self._refuse(scope, receive, send, f"sent more than {self.max_bytes} bytes")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        mb = self.max_bytes / (1024 * 1024)
        response = error_response(
            413,
            "body_too_large",
            f"the request body {what}; the limit is {self.max_bytes} bytes ({mb:g} MB): send "
            "smaller or fewer inputs, or start the service with a larger --max-body-mb",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
