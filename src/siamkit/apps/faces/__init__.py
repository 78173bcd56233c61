"""Faces: dlib's pretrained face encoder as a siamkit model, and LFW's verification protocol.

``siamkit faces init DIR`` makes a folder (``config.json``, kind ``face``) that the gallery,
``siamkit verify`` and the service load as a model (:class:`FaceEmbedder`); ``siamkit faces lfw``
scores LFW's 10-fold protocol. The recipe: docs/applications/faces.md. Needs the ``faces`` extra.

Example (two photos of one face: scikit-image's astronaut and its mirror image):
    >>> from PIL import Image
    >>> from skimage import data
    >>> photo = Image.fromarray(data.astronaut())
    >>> photo.save("astronaut.jpg")
    >>> photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save("mirrored.jpg")
    >>> from siamkit.apps.faces import FaceEmbedder
    >>> emb = FaceEmbedder()
    >>> emb.embed_files(["astronaut.jpg", "mirrored.jpg"]).shape
    (2, 128)
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "embedder": (
        "FaceEmbedder",
        "NoFaceError",
        "read_rgb",
    ),
    "lfw": (
        "FoldAccuracy",
        "LfwPair",
        "LfwProtocol",
        "LfwResult",
        "best_threshold",
        "evaluate_lfw",
        "image_path",
        "k_fold_accuracy",
        "read_pairs",
        "write_pairs",
    ),
    "models": (
        "FaceModels",
        "load_face_models",
        "models_dir",
    ),
    "run": (
        "DLIB_THRESHOLD",
        "FaceRunConfig",
        "is_face_run",
        "read_face_run",
        "write_face_run",
    ),
    "views": (
        "FaceViews",
        "build_face_views",
    ),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)
