"""The gallery: a persistent store of embeddings with a FAISS index (see docs/gallery.md).

Example:
    >>> from siamkit.index import Gallery
    >>> g = Gallery.create("gal", "runs/digits", threshold=0.6)
    >>> g.enroll(["people/"])  # one subfolder per identity: people/one/, people/zero/
    [1, 2, 3, 4, 5, 6]
    >>> [r.label for r in g.identify(["a.png", "c.png"])]  # a zero and a one
    ['zero', 'one']
"""

from __future__ import annotations

from siamkit.index.errors import (
    GalleryError,
    GalleryReembeddedError,
    ItemTooLargeError,
    ModelMismatchError,
    NotAGalleryError,
    SchemaTooNewError,
    UnknownItemError,
    UnknownLabelError,
)
from siamkit.index.gallery import Gallery
from siamkit.index.metric import Metric, get_metric
from siamkit.index.results import (
    Candidate,
    GalleryStats,
    Identification,
    Item,
    Neighbour,
    Verification,
)
from siamkit.index.schema import SCHEMA_VERSION
from siamkit.index.vector_index import IndexConfig, VectorIndex

__all__ = [
    "SCHEMA_VERSION",
    "Candidate",
    "Gallery",
    "GalleryError",
    "GalleryReembeddedError",
    "GalleryStats",
    "Identification",
    "IndexConfig",
    "Item",
    "ItemTooLargeError",
    "Metric",
    "ModelMismatchError",
    "Neighbour",
    "NotAGalleryError",
    "SchemaTooNewError",
    "UnknownItemError",
    "UnknownLabelError",
    "VectorIndex",
    "Verification",
    "get_metric",
]
