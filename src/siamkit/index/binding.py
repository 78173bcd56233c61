"""Which model a gallery is bound to: a run directory or an Embedder, and what it records of it.

:func:`as_embedder` turns what a caller passed (a run directory, a faces folder, or an
Embedder) into an Embedder; :func:`model_meta` is what a gallery's store records about that
model (fingerprint, dimension, kind, distance, run directory, threshold, calibration).

Example:
    >>> embedder = as_embedder("runs/digits")
    >>> model_meta(embedder, threshold=None)["fingerprint"] == embedder.fingerprint
    True
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from siamkit.index.errors import GalleryError
from siamkit.run import Embedder, load_embedder


def as_embedder(model: str | Path | Embedder) -> Embedder:
    """The model a caller named: any model folder or ``.onnx`` file (loaded by the kind it
    records, :func:`~siamkit.run.load_embedder`), or an :class:`~siamkit.run.Embedder` as is.

    Raises:
        GalleryError: An object that is not an Embedder.
        ValueError: A path that holds no loadable model, named.
    """
    if isinstance(model, str | Path):
        return load_embedder(model)
    if not isinstance(model, Embedder):
        raise GalleryError(
            "model must be a run directory, an .onnx file or an Embedder (fingerprint, "
            "embedding_dim, kind, distance, embed(), load(), pair_distances(), "
            f"decision_rule(), ...); got {type(model).__name__}"
        )
    return model


def check_threshold(threshold: float, distance: str) -> float:
    """A threshold a gallery can decide by: finite, and not negative (every distance a gallery
    searches is >= 0, so a negative threshold would accept nothing).

    Raises:
        GalleryError: NaN, infinite or negative, named with the fix.
    """
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise GalleryError(f"the threshold must be a number; got {threshold!r}") from None
    if not math.isfinite(value):
        raise GalleryError(
            f"the threshold must be a finite number; got {value} (a NaN threshold accepts "
            "nothing and an infinite one everything); pass a distance such as --threshold 0.5, "
            "or leave it out to use the run's calibrated threshold"
        )
    if value < 0:
        raise GalleryError(
            f"the threshold must be >= 0; got {value}, but {distance} distances are never "
            "negative, so nothing would ever match; pass a distance such as --threshold 0.5"
        )
    return value


def model_meta(
    embedder: Embedder, threshold: float | None, gallery_dir: Path | None = None
) -> dict[str, str]:
    """The settings a gallery stores about its model, with the threshold to decide by (the
    given one, else the model's own decision rule's).

    The model's path is recorded relative to ``gallery_dir`` (so a gallery moved together
    with its run keeps finding it), absolute when no relative path exists (another drive).
    """
    thr = threshold
    if thr is None:
        rule = embedder.decision_rule()
        thr = None if rule is None else rule.threshold
    if thr is None:
        raise GalleryError(
            "no threshold for this model: calibrate the run (`siamkit calibrate RUN`) or pass "
            "--threshold"
        )
    thr = check_threshold(thr, embedder.distance)
    calibration = embedder.calibration
    return {
        "fingerprint": embedder.fingerprint,
        "embedding_dim": str(int(embedder.embedding_dim)),
        "kind": embedder.kind,
        "distance": embedder.distance,
        "model": _recorded_path(embedder.source, gallery_dir),
        "threshold": repr(float(thr)),
        "calibration": json.dumps(calibration.to_dict()) if calibration is not None else "",
    }


def _recorded_path(source: str, gallery_dir: Path | None) -> str:
    if not source:
        return ""
    path = Path(source).resolve()
    if gallery_dir is None:
        return str(path)
    try:
        return os.path.relpath(path, Path(gallery_dir).resolve())
    except ValueError:  # no relative path (another drive on Windows)
        return str(path)


def recorded_model(model: str, gallery_dir: Path) -> Path:
    """The model path a gallery records, resolved: relative ones against the gallery."""
    path = Path(model)
    return path if path.is_absolute() else (Path(gallery_dir) / path).resolve()
