"""Request inputs -> the batch a model takes, checked against the model and the limits.

An input is an image (bytes from a multipart upload or base64 in JSON), a text, or a feature
vector. Each is checked for the model's modality, decoded and sized here, before it reaches the
micro-batcher, so a bad input is refused with a 4xx naming it and never disturbs other requests.

Images are decoded as ``siamkit embed`` decodes files (:func:`siamkit.data.images.load_image`):
converted to grayscale or RGB, resized bilinearly to the model's size, scaled to [0, 1].

Example:
    >>> dec = InputDecoder("vector", (4,), ServiceConfig())
    >>> dec.batch([RawInput("vector", [0.0, 1.0, 2.0, 3.0], "inputs[0]")]).shape
    (1, 4)
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from siamkit.readers.images import to_model_mode
from siamkit.run import Embedder
from siamkit.serving.config import ServiceConfig
from siamkit.serving.errors import ServiceError

KINDS = ("image", "vector", "text")
_BUFFER_REPR = re.compile(r"<_io\.\w+ object at 0x[0-9a-fA-F]+>")
WHAT = {"image": "an image", "text": "a text", "vector": "a vector", "file": "a file upload"}
SEND = {
    "image": "an image (multipart file, or image_base64 in JSON)",
    "vector": "a feature vector (vector: [numbers])",
    "text": "a text (text: string, or a UTF-8 text file upload)",
}


class RawInput(NamedTuple):
    """One input as received.

    Attributes:
        modality: ``image`` (value: bytes or base64 str), ``text`` (str) or ``vector``
            (list of numbers).
        value: The payload.
        name: Where it came from in the request (``inputs[2]``, ``file a.png``), for errors.
    """

    modality: str
    value: Any
    name: str


def model_input_shape(embedder: Embedder) -> tuple[int, ...] | None:
    """One item's input shape ``(C, H, W)`` / ``(F,)`` as the embedder declares it; None for
    text (whose items have no fixed shape)."""
    shape = tuple(int(s) for s in embedder.input_shape)
    return shape or None


class InputDecoder:
    """Checks and decodes inputs for one model.

    Args:
        kind: The model's modality: ``image``, ``vector`` or ``text``.
        input_shape: ``(C, H, W)`` for images, ``(F,)`` for vectors; None for text.
        config: The limits (pixels, text length, items per request).
        prepare: For a model that sizes its own images (e.g. face detection and alignment):
            called with each decoded PIL image and the input's name in place of resizing,
            returns ``(C, H, W)``; a ValueError it raises becomes a 422 naming the input.

    Raises:
        ValueError: Unknown kind, or no input shape for an image or vector model.
    """

    def __init__(
        self,
        kind: str,
        input_shape: Sequence[int] | None,
        config: ServiceConfig,
        prepare: Callable[[Any, str], npt.NDArray[np.float32]] | None = None,
    ):
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}; choose one of: {', '.join(KINDS)}")
        if kind != "text" and not input_shape:
            raise ValueError(
                f"a {kind} model must declare its input_shape (an attribute, or spec.input_shape) "
                "so the service can check and size inputs"
            )
        if kind == "image" and (len(input_shape or ()) != 3 or input_shape[0] not in (1, 3)):  # type: ignore[index]
            raise ValueError(f"an image model's input_shape must be (1|3, H, W); got {input_shape}")
        self.kind = kind
        self.input_shape = tuple(input_shape or ())
        self.config = config
        self.prepare = prepare

    def upload(self, data: bytes, name: str) -> RawInput:
        """A multipart file upload as the input this model takes: an image for an image model,
        the file's UTF-8 text for a text model; a vector model takes no uploads (refused in
        :meth:`batch`, naming the JSON ``vector`` field to use instead).

        Raises:
            ServiceError: 422 ``text_undecodable`` for a text upload that is not UTF-8.
        """
        if self.kind == "text":
            try:
                return RawInput("text", data.decode("utf-8-sig"), name)
            except UnicodeDecodeError as e:
                raise ServiceError(
                    422,
                    "text_undecodable",
                    f"{name} is not UTF-8 text (byte {e.start}); send a UTF-8 text file or "
                    "the text itself as JSON (text: string)",
                ) from None
        return RawInput("image" if self.kind == "image" else "file", data, name)

    def batch(self, inputs: Sequence[RawInput]) -> npt.NDArray[np.float32] | list[str]:
        """Decode a request's inputs into one batch: ``(N, C, H, W)``, ``(N, F)`` or N texts.

        Raises:
            ServiceError: 422 for an empty request, wrong modality, undecodable image, empty
                text, or vector of the wrong length; 413 for too many inputs, too many pixels
                or too long a text. The message names the input.
        """
        if not inputs:
            raise ServiceError(
                422, "no_inputs", f"the request holds no input; send {SEND[self.kind]}"
            )
        if len(inputs) > self.config.max_items:
            raise ServiceError(
                413,
                "too_many_inputs",
                f"the request holds {len(inputs)} inputs; the limit is {self.config.max_items} "
                "per request: split it into several requests",
            )
        for raw in inputs:
            if raw.modality != self.kind:
                raise ServiceError(
                    422,
                    "wrong_modality",
                    f"{raw.name} is {WHAT.get(raw.modality, raw.modality)}, "
                    f"but this model embeds {self.kind}s: send {SEND[self.kind]}",
                )
        if self.kind == "text":
            return [self.text(raw) for raw in inputs]
        if self.kind == "vector":
            return np.stack([self.vector(raw) for raw in inputs])
        return np.stack([self.image(raw) for raw in inputs])

    def text(self, raw: RawInput) -> str:
        """A non-empty text within the length limit."""
        text = raw.value
        if not isinstance(text, str) or not text.strip():
            raise ServiceError(
                422, "empty_text", f"{raw.name} is an empty text; send at least one character"
            )
        if len(text) > self.config.max_text_chars:
            raise ServiceError(
                413,
                "text_too_long",
                f"{raw.name} has {len(text)} characters; the limit is "
                f"{self.config.max_text_chars}: shorten it or split it into passages",
            )
        return text

    def vector(self, raw: RawInput) -> npt.NDArray[np.float32]:
        """Finite float32 values of the model's length, shaped as one model input ``(F,)``."""
        n_features = int(np.prod(self.input_shape))
        try:
            with np.errstate(over="ignore"):  # 1e39 becomes inf, refused below
                v = np.asarray(raw.value, dtype=np.float32)
        except (TypeError, ValueError, OverflowError):  # 10**400 does not fit a float
            raise ServiceError(
                422, "vector_invalid", f"{raw.name} is not a list of finite numbers"
            ) from None
        if v.ndim != 1 or len(v) != n_features:
            got = f"{len(v)} values" if v.ndim == 1 else f"shape {v.shape}"
            raise ServiceError(
                422,
                "vector_length",
                f"{raw.name} has {got}; this model takes vectors of {n_features} numbers",
            )
        if not np.isfinite(v).all():
            raise ServiceError(422, "vector_not_finite", f"{raw.name} holds NaN or infinite values")
        return v.reshape(self.input_shape)

    def image(self, raw: RawInput) -> npt.NDArray[np.float32]:
        """``(C, H, W)`` float32 in [0, 1], sized for the model."""
        from PIL import Image, UnidentifiedImageError

        data = raw.value
        if isinstance(data, str):
            data = _b64(data, raw.name)
        c, h, w = self.input_shape
        try:
            with Image.open(io.BytesIO(data)) as im:
                pixels = im.width * im.height
                if pixels > self.config.max_image_pixels:
                    raise ServiceError(
                        413,
                        "image_too_large",
                        f"{raw.name} is {im.width}x{im.height} = {pixels} pixels; the limit is "
                        f"{self.config.max_image_pixels}: downscale it (the model uses {w}x{h})",
                    )
                im.load()
                img = to_model_mode(im, c)  # 16-bit images scaled, not clipped
        except ServiceError:
            raise
        except Image.DecompressionBombError:  # declared far beyond PIL's own limit
            raise ServiceError(
                413,
                "image_too_large",
                f"{raw.name} declares more pixels than PIL decodes safely; the limit is "
                f"{self.config.max_image_pixels}: downscale it (the model uses {w}x{h})",
            ) from None
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
        ) as e:
            # PIL names the buffer by its repr (<_io.BytesIO object at 0x...>): name the input
            detail = (
                "not a recognised image format"
                if isinstance(e, UnidentifiedImageError)
                else f"{type(e).__name__}: {_BUFFER_REPR.sub(raw.name, str(e))}"
            )
            raise ServiceError(
                422,
                "image_undecodable",
                f"{raw.name} is not a decodable image ({detail}); send PNG, JPEG, "
                "BMP, GIF, TIFF or WebP bytes",
            ) from None
        if self.prepare is not None:  # the model finds and sizes what it needs itself
            try:
                return self.prepare(img, raw.name)
            except ValueError as e:
                raise ServiceError(422, "image_rejected", str(e)) from None
        if (img.height, img.width) != (h, w):
            img = img.resize((w, h), Image.Resampling.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3)
        return arr[None] if c == 1 else np.ascontiguousarray(arr.transpose(2, 0, 1))


def _b64(text: str, name: str) -> bytes:
    if text.startswith("data:") and "," in text:  # data URL: data:image/png;base64,....
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(
            422,
            "invalid_base64",
            f"{name}: image_base64 is not valid base64; encode the file's bytes, e.g. "
            "`base64 -w0 face.png`",
        ) from None
