"""Endpoints that need only the model: ``/embed``, ``/verify``, ``/healthz``, ``/metrics``.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from siamkit.serving import ServiceConfig, load_service
    >>> app = load_service("runs/digits", config=ServiceConfig(read_only=True))
    >>> with TestClient(app) as client, open("a.png", "rb") as a, open("b.png", "rb") as b:
    ...     answer = client.post("/verify", files={"a": a, "b": b}).json()
    >>> sorted(answer)
    ['distance', 'metric', 'probability', 'same', 'threshold']
    >>> answer["metric"], round(answer["distance"], 2), answer["same"]
    ('euclidean', 0.19, True)

    The same request from a shell, to ``siamkit serve runs/digits --read-only``::

        curl -s localhost:8000/verify -F a=@a.png -F b=@b.png
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.datastructures import FormData

from siamkit.serving.body import body_doc, form_files, read_body
from siamkit.serving.errors import ServiceError
from siamkit.serving.metrics import CONTENT_TYPE
from siamkit.serving.schemas import (
    EmbedRequest,
    EmbedResponse,
    Health,
    VerifyRequest,
    VerifyResponse,
)
from siamkit.serving.state import service_state

router = APIRouter()


@router.post(
    "/embed",
    response_model=EmbedResponse,
    summary="Embed inputs",
    openapi_extra=body_doc(EmbedRequest, {"files": "files"}),
)
async def embed(request: Request) -> EmbedResponse:
    """Embeddings ``(N, D)`` of up to ``max_items`` inputs: JSON ``{"inputs": [...]}`` or
    multipart image uploads in the ``files`` field."""
    s = service_state(request)
    body = await read_body(request, EmbedRequest, s.config)
    if isinstance(body, FormData):
        files = await form_files(body, "files", s.config.max_items)
        inputs = [s.decoder.upload(data, name) for name, data in files]
    else:
        inputs = [item.raw(f"inputs[{i}]") for i, item in enumerate(body.inputs)]
    vectors = await s.embed(inputs)
    return EmbedResponse(
        embeddings=vectors.tolist(),
        embedding_dim=int(vectors.shape[1]),
        distance=s.rule.metric,
        fingerprint=s.embedder.fingerprint,
    )


@router.post(
    "/verify",
    response_model=VerifyResponse,
    summary="Are two inputs the same identity?",
    openapi_extra=body_doc(VerifyRequest, {"a": "file", "b": "file"}),
)
async def verify(request: Request) -> VerifyResponse:
    """Distance between inputs ``a`` and ``b``, same/different at the run's calibrated
    threshold and the calibrated probability (JSON, or multipart files ``a`` and ``b``)."""
    s = service_state(request)
    body = await read_body(request, VerifyRequest, s.config)
    if isinstance(body, FormData):
        pair = []
        for field in ("a", "b"):
            files = await form_files(body, field, 1)
            if len(files) != 1:
                raise ServiceError(
                    422,
                    "missing_input",
                    f"multipart field {field!r} must hold exactly one file; got {len(files)} "
                    "(curl -F a=@first.png -F b=@second.png)",
                )
            pair.append(s.decoder.upload(files[0][1], f"{field} ({files[0][0]})"))
    else:
        pair = [body.a.raw("a"), body.b.raw("b")]
    emb = await s.embed(pair)  # (2, D), one batch so both see the same model call
    d = np.asarray(s.embedder.pair_distances(emb[:1], emb[1:]), dtype=np.float64)  # (1,)
    prob = s.rule.probability(d)
    return VerifyResponse(
        distance=float(d[0]),
        metric=s.rule.metric,
        threshold=s.rule.threshold,
        same=bool(s.rule.same(d)[0]),
        probability=None if prob is None else float(prob[0]),
    )


@router.get("/healthz", response_model=Health, summary="Liveness and what is loaded")
async def healthz(request: Request) -> Health:
    """``ok`` with the model's identity and the gallery size."""
    s = service_state(request)
    items = None
    if s.gallery is not None:
        items = await s.in_gallery_thread(len, s.gallery)
    return Health(
        status="ok",
        kind=s.embedder.kind,
        embedding_dim=int(s.embedder.embedding_dim),
        distance=s.rule.metric,
        fingerprint=s.embedder.fingerprint,
        calibrated=s.rule.probability_map is not None,
        gallery_items=items,
        writable=s.config.writable,
    )


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    """Request counts, latency histograms and micro-batch sizes (Prometheus text format)."""
    return PlainTextResponse(service_state(request).metrics.render(), media_type=CONTENT_TYPE)
