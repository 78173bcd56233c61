"""Properties of what reads untrusted inputs: the image reader, the service's input decoder and
its request schemas, on random bytes, damaged and valid images of random modes, sizes and
formats, random unicode text and random vectors.

The outcome is always either a result of the documented shape and dtype or a named refusal
(``ValueError`` from the reader, ``ServiceError`` with a 4xx status from the decoder, pydantic's
``ValidationError`` from the schemas), never any other exception.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pydantic import BaseModel, ValidationError

from siamkit.readers.images import load_image_array
from siamkit.serving.config import ServiceConfig
from siamkit.serving.decode import InputDecoder, RawInput
from siamkit.serving.errors import ServiceError
from siamkit.serving.schemas import EmbedRequest, Input, VerifyRequest

# (mode, numpy dtype of its pixels, formats that can store it)
MODES = [
    ("1", np.bool_, ["PNG", "BMP", "TIFF", "GIF"]),
    ("L", np.uint8, ["PNG", "BMP", "TIFF", "GIF", "JPEG", "WEBP", "PPM", "TGA"]),
    ("LA", np.uint8, ["PNG", "TIFF"]),
    ("P", np.uint8, ["PNG", "BMP", "TIFF", "GIF"]),
    ("RGB", np.uint8, ["PNG", "BMP", "TIFF", "JPEG", "WEBP", "PPM", "TGA"]),
    ("RGBA", np.uint8, ["PNG", "TIFF", "WEBP", "TGA"]),
    ("CMYK", np.uint8, ["TIFF", "JPEG"]),
    ("I;16", np.uint16, ["PNG", "TIFF"]),
    ("I", np.int32, ["TIFF"]),
    ("F", np.float32, ["TIFF"]),
]
SERVICE = ServiceConfig(max_image_pixels=64 * 64)

# PIL warns about the damaged files it still reads (corrupt EXIF, tags past the end)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")


@st.composite
def image_files(draw: st.DrawFn) -> bytes:
    """A small image file of a random mode, size, format and pixel values."""
    mode, dtype, formats = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(formats))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    bands = len(mode) if mode in ("LA", "RGB", "RGBA", "CMYK") else 1
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        img = Image.fromarray(rng.random((h, w)) > 0.5)
    elif dtype == np.float32:
        img = Image.fromarray(rng.normal(scale=1000.0, size=(h, w)).astype(np.float32), "F")
    elif dtype in (np.uint16, np.int32):
        top = 2**16 if dtype == np.uint16 else 2**31
        img = Image.fromarray(rng.integers(0, top, size=(h, w)).astype(dtype))
        img = img if mode == "I" or img.mode == mode else img.convert(mode)
    else:
        shape = (h, w) if bands == 1 else (h, w, bands)
        arr = rng.integers(0, 256, size=shape, dtype=np.uint8)
        img = Image.fromarray(arr, "L" if mode == "P" else mode)
        if mode == "P":
            img = img.convert("P")
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@st.composite
def damaged(draw: st.DrawFn, files: st.SearchStrategy[bytes]) -> bytes:
    """``files`` cut short, or with a few bytes overwritten (headers included)."""
    data = bytearray(draw(files))
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


image_bytes = st.one_of(image_files(), damaged(image_files()), st.binary(max_size=200))
# the reader's own inputs: bytes overwritten in a header can declare a decompression bomb
# (refused by its own test below), so only truncation here
reader_bytes = st.one_of(
    image_files(),
    image_files().flatmap(lambda b: st.integers(0, len(b) - 1).map(lambda n: b[:n])),
    st.binary(max_size=200),
)
sizes = st.one_of(st.none(), st.tuples(st.integers(1, 9), st.integers(1, 9)))


def _check_image(arr: np.ndarray, channels: int, size: tuple[int, int] | None) -> None:
    assert arr.dtype == np.float32 and arr.ndim == 3 and arr.shape[0] == channels
    if size is not None:
        assert arr.shape[1:] == size
    assert bool(np.isfinite(arr).all()) and float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0


def _write(tmp: Path, data: bytes) -> Path:
    path = tmp / "input.img"
    path.write_bytes(data)
    return path


@settings(max_examples=60)
@given(
    data=reader_bytes,
    channels=st.sampled_from([1, 3]),
    size=sizes,
    on_mismatch=st.sampled_from(["resize", "reject"]),
)
def test_load_image_array_reads_or_refuses_with_a_value_error(
    tmp_path_factory: pytest.TempPathFactory,
    data: bytes,
    channels: int,
    size: tuple[int, int] | None,
    on_mismatch: str,
) -> None:
    path = _write(tmp_path_factory.mktemp("img"), data)
    try:
        arr = load_image_array(path, channels, size, on_mismatch)
    except ValueError as e:
        assert str(path) in str(e), "the refusal names the file"
        return
    _check_image(arr, channels, size)


def _bmp_header(width: int, height: int) -> bytes:
    """A 24-bit BMP that declares ``width`` x ``height`` and holds no pixel data."""
    info = (40).to_bytes(4, "little") + width.to_bytes(4, "little", signed=True)
    info += height.to_bytes(4, "little", signed=True) + (1).to_bytes(2, "little")
    info += (24).to_bytes(2, "little") + bytes(24)
    return b"BM" + (54).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little") + info


@settings(max_examples=5)
@given(width=st.integers(20_000, 60_000), height=st.integers(20_000, 60_000))
def test_load_image_array_refuses_a_decompression_bomb_with_a_value_error(
    tmp_path_factory: pytest.TempPathFactory, width: int, height: int
) -> None:
    path = _write(tmp_path_factory.mktemp("bomb"), _bmp_header(width, height))
    with pytest.raises(ValueError, match=r"input\.img"):
        load_image_array(path, 1, (4, 4))


def _decode(decoder: InputDecoder, inputs: list[RawInput]) -> Any:
    """The decoder's batch, or None after a 4xx ServiceError (any other exception escapes)."""
    try:
        return decoder.batch(inputs)
    except ServiceError as e:
        assert 400 <= e.status < 500, (e.status, e.code)
        assert e.code and e.message
        return None


@settings(max_examples=80)
@given(
    data=image_bytes,
    channels=st.sampled_from([1, 3]),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    as_base64=st.booleans(),
)
def test_input_decoder_decodes_an_image_or_refuses_with_a_4xx(
    data: bytes, channels: int, size: tuple[int, int], as_base64: bool
) -> None:
    decoder = InputDecoder("image", (channels, *size), SERVICE)
    value: bytes | str = base64.b64encode(data).decode() if as_base64 else data
    out = _decode(decoder, [RawInput("image", value, "inputs[0]")])
    if out is not None:
        assert out.shape == (1, channels, *size)
        _check_image(out[0], channels, size)


@given(text=st.text(max_size=60), prefix=st.sampled_from(["", "data:image/png;base64,"]))
def test_input_decoder_refuses_base64_that_is_not_with_a_4xx(text: str, prefix: str) -> None:
    _decode(InputDecoder("image", (1, 4, 4), SERVICE), [RawInput("image", prefix + text, "x")])


@given(texts=st.lists(st.text(max_size=40), min_size=0, max_size=4), limit=st.integers(1, 30))
def test_input_decoder_takes_a_text_or_refuses_with_a_4xx(texts: list[str], limit: int) -> None:
    decoder = InputDecoder("text", None, ServiceConfig(max_text_chars=limit, max_items=3))
    out = _decode(decoder, [RawInput("text", t, f"inputs[{i}]") for i, t in enumerate(texts)])
    if out is not None:
        assert out == texts
        assert all(t.strip() and len(t) <= limit for t in texts) and 1 <= len(texts) <= 3


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.booleans(),
)
vectors = st.one_of(
    st.lists(numbers, max_size=6),
    st.lists(st.lists(numbers, max_size=3), max_size=3),
    st.text(max_size=5),
    st.none(),
    st.dictionaries(st.text(max_size=3), numbers, max_size=2),
)


@settings(max_examples=60)
@given(value=vectors, n_features=st.integers(1, 5))
def test_input_decoder_takes_a_vector_or_refuses_with_a_4xx(value: Any, n_features: int) -> None:
    out = _decode(InputDecoder("vector", (n_features,), SERVICE), [RawInput("vector", value, "v")])
    if out is not None:
        assert out.shape == (1, n_features) and out.dtype == np.float32
        assert bool(np.isfinite(out).all())


@settings(max_examples=5)
@given(big=st.integers(2**1024, 2**1100))
def test_input_decoder_refuses_an_integer_beyond_float_range_with_a_4xx(big: int) -> None:
    _decode(InputDecoder("vector", (1,), SERVICE), [RawInput("vector", [big], "v")])


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
input_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "image_base64": json_values,
            "text": st.one_of(st.text(max_size=10), json_values),
            "vector": st.one_of(st.lists(numbers, max_size=4), json_values),
        },
    ),
)


@settings(max_examples=80)
@given(body=input_bodies, n_features=st.integers(1, 4))
def test_request_schemas_validate_or_refuse_and_the_decoder_follows(
    body: Any, n_features: int
) -> None:
    """A body is a valid ``Input`` (exactly one field) or a ``ValidationError``; a valid one
    then decodes for a model of its kind, or is refused with a 4xx."""
    requests: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (EmbedRequest, {"inputs": [body]}),
        (VerifyRequest, {"a": body, "b": body}),
    ]
    for schema, request in requests:
        with contextlib.suppress(ValidationError):  # a refusal; any other exception escapes
            schema.model_validate(request)
    try:
        item = Input.model_validate(body)
    except ValidationError:
        return
    given_fields = [f for f in ("image_base64", "text", "vector") if getattr(item, f) is not None]
    assert len(given_fields) == 1
    raw = item.raw("inputs[0]")
    shape = {"image": (1, 4, 4), "vector": (n_features,), "text": None}[raw.modality]
    _decode(InputDecoder(raw.modality, shape, SERVICE), [raw])
    if raw.modality == "vector":
        assert all(isinstance(v, float) or math.isnan(v) for v in item.vector or [])
