"""What one gallery item may hold: a bounded, printable label and bounded JSON metadata.

Every write checks its items here (the library, the CLI and the service all enroll through
:class:`~siamkit.index.gallery_writes.GalleryWrites`), so one request cannot store a label of
millions of characters or megabytes of metadata, and a label never carries control characters
into a terminal, a log or a CSV.

Example:
    >>> check_label("  alice ")
    'alice'
    >>> check_metadata({"camera": 2})
    {'camera': 2}
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from siamkit.index.errors import GalleryError, ItemTooLargeError

MAX_LABEL_CHARS = 256  # characters in one identity label
MAX_METADATA_BYTES = 16 * 1024  # bytes of one item's metadata, as UTF-8 JSON
_CONTROL = {"Cc", "Cs", "Zl", "Zp"}  # control characters, lone surrogates, line/paragraph breaks


def check_label(label: object) -> str:
    """A label stripped of surrounding space, checked.

    Raises:
        GalleryError: Not a string, empty, or holding a control character (named by position).
        ItemTooLargeError: Longer than :data:`MAX_LABEL_CHARS`.
    """
    if not isinstance(label, str) or not label.strip():
        shown = repr(label) if not isinstance(label, str) else repr(label[:40])
        raise GalleryError(f"an identity label must be a non-empty string; got {shown}")
    label = label.strip()
    if len(label) > MAX_LABEL_CHARS:
        raise ItemTooLargeError(
            f"the label {label[:40]!r}... has {len(label)} characters; labels are limited to "
            f"{MAX_LABEL_CHARS}: use a short identity name and keep details in metadata"
        )
    for i, ch in enumerate(label):
        if unicodedata.category(ch) in _CONTROL:
            raise GalleryError(
                f"the label {label[:40]!r} holds the control character {ch!r} at position {i}; "
                "labels must be printable text (no newlines, tabs or escape codes)"
            )
    return label


def check_metadata(metadata: object) -> dict[str, Any]:
    """An item's metadata: a JSON object of at most :data:`MAX_METADATA_BYTES`; None is ``{}``.

    Raises:
        GalleryError: Not a dict, or not JSON-serialisable.
        ItemTooLargeError: Its JSON is larger than the limit.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise GalleryError(
            f"metadata must be a JSON object (a dict); got {type(metadata).__name__}"
        )
    try:
        text = json.dumps(metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        raise GalleryError(f"metadata is not JSON-serialisable: {e}") from None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_METADATA_BYTES:
        raise ItemTooLargeError(
            f"the metadata is {size} bytes of JSON; an item's metadata is limited to "
            f"{MAX_METADATA_BYTES} bytes ({MAX_METADATA_BYTES // 1024} KB): store large data "
            "elsewhere and keep a reference to it"
        )
    return metadata
