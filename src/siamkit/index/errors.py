"""Errors a gallery raises; all are ``ValueError`` so callers can catch bad input in one place.

The service maps them to HTTP statuses: :class:`UnknownItemError` and :class:`UnknownLabelError`
to 404, :class:`ModelMismatchError` to 409, :class:`ItemTooLargeError` to 413, the rest to 422.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class GalleryError(ValueError):
    """Bad input or a gallery that cannot be used as asked; the message says how to fix it."""


class NotAGalleryError(GalleryError):
    """The directory is not a gallery (no ``gallery.json``)."""


class SchemaTooNewError(GalleryError):
    """The store was written by a newer siamkit (a higher schema version than this one reads)."""


class ModelMismatchError(GalleryError):
    """Embeddings or an embedder from another model than the gallery's (fingerprints differ)."""


class GalleryReembeddedError(ModelMismatchError):
    """The store was re-embedded with another model (in this process or another) since the
    caller's model was bound: its embeddings no longer compare with the stored ones."""


class ItemTooLargeError(GalleryError):
    """A label or metadata over its size limit (see :mod:`siamkit.index.item_limits`)."""


class UnknownItemError(GalleryError):
    """An item id that is not in the gallery."""


class UnknownLabelError(GalleryError):
    """An identity label with no item in the gallery."""


MAX_ITEM_ID = (1 << 63) - 1  # ids are signed 64-bit integers in both stores, handed out from 1


def check_item_id(item_id: object) -> int:
    """An item id as an int, checked to be one a gallery can hold: ``1 <= id < 2**63``.

    Raises:
        UnknownItemError: Not an integer, or outside that range (no item can have it).
    """
    if isinstance(item_id, bool) or not isinstance(item_id, int | np.integer):
        raise UnknownItemError(f"an item id must be an integer; got {item_id!r}")
    value = int(item_id)
    if not 1 <= value <= MAX_ITEM_ID:
        raise UnknownItemError(
            f"no item with id {value}: item ids run from 1 to {MAX_ITEM_ID} (2**63 - 1); "
            "`siamkit gallery list DIR` shows the ids"
        )
    return value


def unknown_label(label: str, largest: Sequence[tuple[str, int]]) -> UnknownLabelError:
    """The error for a label with no item, naming some that exist.

    Args:
        label: The label asked for.
        largest: ``(label, items)`` of the gallery's identities, most items first.
    """
    known = [lab for lab, _ in largest[:10]]
    return UnknownLabelError(
        f"no identity '{label}' in this gallery; it holds e.g. {', '.join(known) or 'nothing'}"
        " (`siamkit gallery stats DIR` lists the largest)"
    )
