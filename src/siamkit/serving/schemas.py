"""Request and response bodies of the REST service (pydantic; they are the OpenAPI schema).

An :class:`Input` is exactly one of ``image_base64``, ``text`` or ``vector``. Image endpoints
also take multipart uploads; the field names are given on each endpoint.

Example:
    >>> body = VerifyRequest(a=Input(vector=[0.1, 0.2]), b=Input(vector=[0.1, 0.3]))
    >>> body.model_dump(exclude_none=True)
    {'a': {'vector': [0.1, 0.2]}, 'b': {'vector': [0.1, 0.3]}}
    >>> Input(text="hi", vector=[0.1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Input
      Value error, give exactly one of image_base64, text, vector; got ['text', 'vector'] ...
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from siamkit.serving.decode import RawInput


class Input(BaseModel):
    """One input: exactly one of ``image_base64``, ``text``, ``vector``."""

    model_config = ConfigDict(extra="forbid")

    image_base64: str | None = Field(
        None, description="Image file bytes, base64 (a data: URL prefix is allowed)."
    )
    text: str | None = Field(None, description="A text, for text models.")
    vector: list[float] | None = Field(None, description="A feature vector, for vector models.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Input:
        given = [k for k in ("image_base64", "text", "vector") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of image_base64, text, vector; got {given or 'none'}"
            )
        return self

    def raw(self, name: str) -> RawInput:
        """This input as the decoder takes it."""
        if self.image_base64 is not None:
            return RawInput("image", self.image_base64, name)
        if self.text is not None:
            return RawInput("text", self.text, name)
        return RawInput("vector", self.vector, name)


class EmbedRequest(BaseModel):
    """Inputs to embed (at most the service's ``max_items``)."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[Input]


class EmbedResponse(BaseModel):
    """One embedding per input, in order."""

    embeddings: list[list[float]] = Field(description="(N, D) embeddings.")
    embedding_dim: int
    distance: str = Field(description="The distance that compares these embeddings.")
    fingerprint: str = Field(description="Identifies the model's weights.")


class VerifyRequest(BaseModel):
    """Two inputs to compare."""

    model_config = ConfigDict(extra="forbid")
    a: Input
    b: Input


class VerifyResponse(BaseModel):
    """Distance between the two inputs and the decision at the run's threshold."""

    distance: float
    metric: str = Field(description="Name of the distance.")
    threshold: float = Field(description="The calibrated decision threshold.")
    same: bool = Field(description="True when the pair is accepted as the same identity.")
    probability: float | None = Field(
        None, description="Calibrated P(same); null when the run has no calibration."
    )


class IdentifyRequest(BaseModel):
    """One input to look up in the gallery."""

    model_config = ConfigDict(extra="forbid")
    input: Input
    k: int = Field(5, ge=1, description="How many gallery items to return.")


class Match(BaseModel):
    """A gallery item near the query (for /identify: the closest item of one identity)."""

    id: int
    label: str
    distance: float
    probability: float | None = None
    same: bool = Field(description="Within the calibrated threshold.")


class IdentifyResponse(BaseModel):
    """Ranked gallery matches, closest first, and the identity decided."""

    label: str | None = Field(description="Best match's label, or null when it is unknown.")
    known: bool = Field(description="False when no match is within the threshold.")
    matches: list[Match]


class EnrollItem(BaseModel):
    """One item to add to the gallery."""

    model_config = ConfigDict(extra="forbid")
    input: Input
    label: str = Field(min_length=1, description="The identity this item shows.")
    metadata: dict[str, Any] = Field(default_factory=dict)


class EnrollRequest(BaseModel):
    """Items to add, all or none."""

    model_config = ConfigDict(extra="forbid")
    items: list[EnrollItem]


class EnrollResponse(BaseModel):
    """The ids given to the new items, in order."""

    ids: list[int]


class Item(BaseModel):
    """A stored gallery item."""

    id: int
    label: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(
        None,
        description="The name of the file it was embedded from (no server folders); null for "
        "texts and embeddings. The full path or text only with --show-sources and the key.",
    )
    created_at: str | None = Field(None, description="UTC time of enrolment, ISO 8601.")
    fingerprint: str | None = Field(None, description="The model that embedded it.")


class DeleteResponse(BaseModel):
    """The removed item's id."""

    deleted: int


class SimilarResponse(BaseModel):
    """Gallery items nearest to a stored item (itself excluded)."""

    id: int
    matches: list[Match]


class Health(BaseModel):
    """What the service runs."""

    status: str
    kind: str
    embedding_dim: int
    distance: str
    fingerprint: str
    calibrated: bool
    gallery_items: int | None = Field(None, description="null when no gallery is loaded.")
    writable: bool
