"""Running an exported siamkit model with onnxruntime and numpy alone (no torch import).

Example:
    >>> from siamkit.runtime import OnnxEncoder
    >>> enc = OnnxEncoder("model.onnx")
    >>> emb = enc.embed_files(["a.png", "b.png", "c.png"])  # (3, D): two zeros and a one
    >>> enc.pair_distances(emb[[0, 0]], emb[[1, 2]]).round(2), round(enc.threshold, 2)
    (array([0.19, 0.69], dtype=float32), 0.21)
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
