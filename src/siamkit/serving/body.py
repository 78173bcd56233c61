"""One endpoint, two encodings: a JSON body (pydantic model) or a multipart upload.

FastAPI would read and parse the body itself if the endpoint declared it; here the endpoint
reads it, so the body size limit (:mod:`siamkit.serving.body_limit`) still answers 413 while
the body streams in, and a multipart form can stand in for the JSON model. The OpenAPI
document still shows both encodings (:func:`body_doc`).

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.serving.schemas import VerifyRequest
    >>> app = FastAPI()
    >>> @app.post("/verify", openapi_extra=body_doc(VerifyRequest, {"a": "file", "b": "file"}))
    ... async def verify(request: Request) -> str:
    ...     body = await read_body(request, VerifyRequest, ServiceConfig())
    ...     return type(body).__name__
    >>> client = TestClient(app)
    >>> client.post("/verify", json={"a": {"text": "hi"}, "b": {"text": "ho"}}).json()
    'VerifyRequest'
    >>> client.post("/verify", files={"a": b"...", "b": b"..."}).json()
    'FormData'
    >>> sorted(app.openapi()["paths"]["/verify"]["post"]["requestBody"]["content"])
    ['application/json', 'multipart/form-data']
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from siamkit.serving.config import ServiceConfig
from siamkit.serving.errors import ServiceError

M = TypeVar("M", bound=BaseModel)
_DEFS: dict[str, Any] = {}  # JSON schemas of request models, merged into the OpenAPI components


async def read_body(request: Request, model: type[M], config: ServiceConfig) -> M | FormData:
    """The request's JSON body validated as ``model``, or its multipart form.

    Raises:
        RequestValidationError: JSON that is malformed or does not fit ``model`` (422).
        ServiceError: 415 for another content type.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            return await request.form(
                max_files=config.max_items,
                max_fields=config.max_items + 16,
                max_part_size=config.max_body_bytes,
            )
        except HTTPException as e:  # starlette answers a form over its limits with a bare 400
            if str(e.detail).startswith("Too many"):
                raise ServiceError(
                    413,
                    "too_many_items",
                    f"{e.detail.rstrip('.')}: send at most {config.max_items} inputs a request",
                ) from None
            raise
    if ctype in ("application/json", ""):
        raw = await request.body()
        try:
            return model.model_validate_json(raw or b"null")
        except ValidationError as e:
            raise RequestValidationError(e.errors(include_url=False)) from None
    raise ServiceError(
        415,
        "unsupported_media_type",
        f"content type {ctype!r} is not accepted; send application/json or multipart/form-data",
    )


async def form_files(form: FormData, field: str, limit: int) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of each file uploaded under ``field`` (at most ``limit``).

    Raises:
        ServiceError: 422 when a value of ``field`` is not a file.
    """
    out = []
    for value in form.getlist(field)[: limit + 1]:
        if not isinstance(value, UploadFile):
            raise ServiceError(
                422,
                "not_a_file",
                f"multipart field {field!r} must be a file upload (curl -F {field}=@file.png)",
            )
        out.append((f"file {value.filename or field!r}", await value.read()))
    return out


def form_value(form: FormData, field: str, default: str | None = None) -> str | None:
    """A text field of a multipart form, or ``default``."""
    value = form.get(field)
    if value is None:
        return default
    if isinstance(value, UploadFile):
        raise ServiceError(
            422, "not_a_text_field", f"multipart field {field!r} must be text, not a file"
        )
    return str(value)


def body_doc(model: type[BaseModel], multipart: dict[str, str]) -> dict[str, Any]:
    """``openapi_extra`` documenting both encodings of an endpoint's body.

    Args:
        model: The JSON body's pydantic model.
        multipart: Form field -> ``file`` (one upload), ``files`` (several) or ``string``.
    """
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    _DEFS.update(schema.pop("$defs", {}))
    _DEFS[model.__name__] = schema
    props: dict[str, Any] = {}
    for name, kind in multipart.items():
        binary = {"type": "string", "format": "binary"}
        props[name] = (
            binary
            if kind == "file"
            else {"type": "array", "items": binary}
            if kind == "files"
            else {"type": "string"}
        )
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": props}},
            },
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Add the request models named by :func:`body_doc` to the app's OpenAPI components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()  # FastAPI caches it in app.openapi_schema
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_DEFS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
