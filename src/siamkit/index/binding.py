"""Which model a gallery is bound to: a run directory or an Embedder, and what it records of it.

:func:`_as_embedder` turns what a caller passed (a run directory, a faces folder, or an
Embedder) into an Embedder; :func:`_model_meta` is what a gallery's store records about that
model (fingerprint, dimension, kind, distance, run directory, threshold, calibration).

Example:
    >>> embedder = _as_embedder("runs/digits")
    >>> _model_meta(embedder, threshold=None)["fingerprint"] == embedder.fingerprint
    True
"""

from __future__ import annotations

import json
from pathlib import Path

from siamkit.index.errors import GalleryError
from siamkit.run import Embedder


def _as_embedder(model: str | Path | Embedder) -> Embedder:
    if isinstance(model, str | Path):
        from siamkit.apps.face_run import is_face_run

        if is_face_run(model):  # `siamkit faces init` folder: dlib's pretrained face encoder
            from siamkit.apps.faces import FaceEmbedder

            return FaceEmbedder.from_run_dir(model)
        from siamkit.run.torch_embedder import RunEmbedder

        return RunEmbedder(model)
    if not isinstance(model, Embedder):
        raise GalleryError(
            f"model must be a run directory or an Embedder (fingerprint, embedding_dim, kind, "
            f"distance, embed()); got {type(model).__name__}"
        )
    return model


def _model_meta(embedder: Embedder, threshold: float | None) -> dict[str, str]:
    """The settings a gallery stores about its model, with the threshold to decide by."""
    calibration = getattr(embedder, "calibration", None)
    thr = threshold
    if thr is None:
        thr = getattr(embedder, "threshold", None)
    if thr is None:
        raise GalleryError(
            "no threshold for this model: calibrate the run (`siamkit calibrate RUN`) or pass "
            "--threshold"
        )
    run_dir = getattr(embedder, "run_dir", None)
    return {
        "fingerprint": embedder.fingerprint,
        "embedding_dim": str(int(embedder.embedding_dim)),
        "kind": embedder.kind,
        "distance": embedder.distance,
        "model": str(Path(run_dir).resolve()) if run_dir is not None else "",
        "threshold": repr(float(thr)),
        "calibration": json.dumps(calibration.to_dict()) if calibration is not None else "",
    }
