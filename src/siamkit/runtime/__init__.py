"""Running an exported siamkit model with onnxruntime and numpy alone (no torch import).

Example:
    >>> from siamkit.runtime import OnnxEncoder
    >>> enc = OnnxEncoder("model.onnx")
    >>> emb = enc.embed_files(["a.png", "b.png"])  # (2, D)
    >>> enc.pair_distances(emb[:1], emb[1:]), enc.threshold
"""

from __future__ import annotations

from siamkit.readers.images import load_image_array, load_images
from siamkit.runtime.distances import RUNTIME_DISTANCES, pair_distances
from siamkit.runtime.encoder import OnnxEncoder
from siamkit.runtime.metadata import ModelMetadata, NotASiamkitModelError

__all__ = [
    "RUNTIME_DISTANCES",
    "ModelMetadata",
    "NotASiamkitModelError",
    "OnnxEncoder",
    "load_image_array",
    "load_images",
    "pair_distances",
]
