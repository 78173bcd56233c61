"""Reading a model's inputs with numpy and Pillow alone (no torch): the bottom of the house.

Every kind of model reads what ``siamkit embed`` takes through these functions: images decoded
and sized (:mod:`~siamkit.readers.images`), and image folders, vectors and texts
(:mod:`~siamkit.readers.inputs`). The torch runs, the data loaders and the ONNX runtime all
call them, so they accept and refuse the same inputs with the same messages.

Example:
    >>> x = load_images(["a.png", "b.png"], channels=1, size=(28, 28))  # (2, 1, 28, 28)
"""

from __future__ import annotations

from siamkit.readers.images import load_image_array, load_images
from siamkit.readers.inputs import (
    IMAGE_SUFFIXES,
    TEXT_SUFFIXES,
    image_files,
    read_csv_rows,
    read_texts,
    read_vectors,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "TEXT_SUFFIXES",
    "image_files",
    "load_image_array",
    "load_images",
    "read_csv_rows",
    "read_texts",
    "read_vectors",
]
