"""Gallery endpoints: ``/identify``, ``/enroll``, ``/items/{id}`` (get, delete), ``/similar/{id}``.

Queries are embedded through the micro-batcher like every other input; the gallery is then
searched with the embeddings on the service's gallery thread. Enroll and delete need the API key
(:func:`~siamkit.serving.auth.require_write`). An enrolment is all or nothing: every input is
decoded and embedded before the gallery is touched, and the gallery writes the items in one
transaction.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.index import Gallery
    >>> from siamkit.serving import ServiceConfig, load_service
    >>> gallery = Gallery.create("gallery", "runs/digits")
    >>> ids = gallery.enroll(["people/"])  # people/zero/*.png, people/one/*.png
    >>> gallery.close()
    >>> key = "k" * 32  # in practice: the SIAMKIT_API_KEY environment variable
    >>> app = load_service("runs/digits", gallery_dir="gallery", config=ServiceConfig(api_key=key))
    >>> auth = {"X-API-Key": key}  # or {"Authorization": f"Bearer {key}"}
    >>> with TestClient(app) as client:
    ...     with open("b.png", "rb") as f:
    ...         enrolled = client.post(
    ...             "/enroll", headers=auth, data={"label": "zero"}, files={"files": f}
    ...         ).json()
    ...     with open("a.png", "rb") as f:
    ...         found = client.post("/identify", data={"k": "2"}, files={"file": f}).json()
    >>> enrolled
    {'ids': [7]}
    >>> found["label"], [match["label"] for match in found["matches"]]
    ('zero', ['zero', 'one'])

    The same requests from a shell, to ``siamkit serve runs/digits --gallery gallery``::

        curl -s localhost:8000/enroll -H "X-API-Key: $SIAMKIT_API_KEY" -F label=zero -F files=@b.png
        curl -s localhost:8000/identify -F file=@a.png -F k=2
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from starlette.datastructures import FormData

from siamkit.index.errors import MAX_ITEM_ID, GalleryError, ItemTooLargeError
from siamkit.index.item_limits import check_label, check_metadata
from siamkit.serving.auth import has_key, require_read, require_write
from siamkit.serving.body import body_doc, form_files, form_value, read_body
from siamkit.serving.errors import ServiceError
from siamkit.serving.gallery_calls import GalleryCalls
from siamkit.serving.schemas import (
    DeleteResponse,
    EnrollRequest,
    EnrollResponse,
    IdentifyRequest,
    IdentifyResponse,
    Item,
    Match,
    SimilarResponse,
)
from siamkit.serving.state import ServiceState, service_state

router = APIRouter()

ItemId = Annotated[
    int,
    PathParam(ge=1, le=MAX_ITEM_ID, description="An item id: 1 to 2**63 - 1 (from /enroll)."),
]


def _k(s: ServiceState, k: int) -> int:
    if not 1 <= k <= s.config.max_k:
        raise ServiceError(422, "bad_k", f"k must be between 1 and {s.config.max_k}; got {k}")
    return k


@router.post(
    "/identify",
    response_model=IdentifyResponse,
    summary="Which enrolled identity is this?",
    dependencies=[Depends(require_read)],
    openapi_extra=body_doc(IdentifyRequest, {"file": "file", "k": "string"}),
)
async def identify(request: Request) -> IdentifyResponse:
    """The ``k`` closest identities, with distance and calibrated probability, and the decided
    label (null = unknown: no identity within the threshold). JSON, or a multipart ``file``."""
    s = service_state(request)
    calls = GalleryCalls(s)
    body = await read_body(request, IdentifyRequest, s.config)
    if isinstance(body, FormData):
        files = await form_files(body, "file", 1)
        if len(files) != 1:
            raise ServiceError(
                422, "missing_input", "send exactly one file as multipart field 'file'"
            )
        query = s.decoder.upload(files[0][1], files[0][0])
        k = _int_field(body, "k", 5)
    else:
        query, k = body.input.raw("input"), body.k
    emb = await s.embed([query])  # (1, D)
    return await calls.identify(emb, _k(s, k))


@router.post(
    "/enroll",
    response_model=EnrollResponse,
    summary="Add items to the gallery (API key)",
    dependencies=[Depends(require_write)],
    openapi_extra=body_doc(
        EnrollRequest, {"label": "string", "files": "files", "metadata": "string"}
    ),
)
async def enroll(request: Request) -> EnrollResponse:
    """Embed and store items, all or none. JSON ``{"items": [{"input", "label", "metadata"}]}``,
    or multipart ``files`` (one identity, ``label``; optional ``metadata`` JSON object).

    Items enrolled here keep their embedding, not the uploaded bytes, so `siamkit gallery
    reembed` cannot re-read them: keep your uploads and enroll them again after a re-embed, or
    enroll from files with `siamkit gallery enroll` (those are re-read)."""
    s = service_state(request)
    calls = GalleryCalls(s)  # 503 before reading the body when there is no gallery
    body = await read_body(request, EnrollRequest, s.config)
    if isinstance(body, FormData):
        label = (form_value(body, "label") or "").strip()
        if not label:
            raise ServiceError(
                422, "missing_label", "multipart enrol needs a non-empty 'label' field"
            )
        meta = _metadata(form_value(body, "metadata", "{}") or "{}")
        files = await form_files(body, "files", s.config.max_items)
        inputs = [s.decoder.upload(data, name) for name, data in files]
        labels = [label] * len(inputs)
        metadata = [meta] * len(inputs)
    else:
        inputs = [it.input.raw(f"items[{i}].input") for i, it in enumerate(body.items)]
        labels = [it.label for it in body.items]
        metadata = [it.metadata for it in body.items]
    _check_items(labels, metadata)  # before the model runs
    emb = await s.embed(inputs)  # (N, D); a bad input fails here, before any write
    ids = await calls.enroll(emb, labels, metadata)
    return EnrollResponse(ids=ids)


@router.get(
    "/items/{item_id}",
    response_model=Item,
    summary="One stored item",
    dependencies=[Depends(require_read)],
)
async def get_item(request: Request, item_id: ItemId) -> Item:
    """The item's label, metadata, source file name and enrolment time (the full source only
    to key holders of a service started with ``--show-sources``)."""
    s = service_state(request)
    full = s.config.show_sources and has_key(request)
    return await GalleryCalls(s).get(item_id, full_source=full)


@router.delete(
    "/items/{item_id}",
    response_model=DeleteResponse,
    summary="Remove an item (API key)",
    dependencies=[Depends(require_write)],
)
async def delete_item(request: Request, item_id: ItemId) -> DeleteResponse:
    """Remove the item from the store and the index."""
    await GalleryCalls(service_state(request)).remove(item_id)
    return DeleteResponse(deleted=item_id)


@router.get(
    "/similar/{item_id}",
    response_model=SimilarResponse,
    summary="Items near an item",
    dependencies=[Depends(require_read)],
)
async def similar(
    request: Request, item_id: ItemId, k: int = Query(10, description="How many neighbours.")
) -> SimilarResponse:
    """The ``k`` stored items closest to a stored item (itself excluded), closest first."""
    s = service_state(request)
    matches: list[Match] = await GalleryCalls(s).similar(item_id, _k(s, k))
    return SimilarResponse(id=item_id, matches=matches)


def _check_items(labels: list[str], metadata: list[dict[str, Any]]) -> None:
    """Every label and metadata object within the gallery's limits, before anything is embedded.

    Raises:
        ServiceError: 413 ``item_too_large`` over a limit (named), 422 ``bad_label`` /
            ``bad_metadata`` otherwise.
    """
    for i, (label, meta) in enumerate(zip(labels, metadata, strict=True)):
        checks: tuple[tuple[str, Callable[[Any], object], object], ...] = (
            ("label", check_label, label),
            ("metadata", check_metadata, meta),
        )
        for field, check, value in checks:
            try:
                check(value)
            except ItemTooLargeError as e:
                raise ServiceError(413, "item_too_large", f"items[{i}].{field}: {e}") from None
            except GalleryError as e:
                raise ServiceError(422, f"bad_{field}", f"items[{i}].{field}: {e}") from None


def _int_field(form: FormData, field: str, default: int) -> int:
    raw = form_value(form, field)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ServiceError(
            422, "bad_k", f"multipart field {field!r} must be an integer; got {raw!r}"
        ) from None


def _metadata(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ServiceError(
            422, "bad_metadata", f"multipart field 'metadata' is not JSON ({e})"
        ) from None
    if not isinstance(value, dict):
        raise ServiceError(
            422, "bad_metadata", f"'metadata' must be a JSON object; got {type(value).__name__}"
        )
    return value
