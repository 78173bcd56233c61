"""dlib's pretrained face models, found inside the ``face-recognition-models`` package.

Three models make the face pipeline (King, "Dlib-ml: A Machine Learning Toolkit", JMLR 2009;
the embedding network is dlib's ``dlib_face_recognition_resnet_model_v1``, a 29-layer ResNet
trained with a metric loss on about 3 million faces, 99.38% on the LFW benchmark as its
author reports):

- the HOG + linear SVM frontal face detector, built into dlib;
- the 5-point landmark predictor (eye corners and nose), used to align faces;
- the ResNet that maps an aligned 150x150 RGB face chip to a 128-d embedding.

The weights are files shipped in the PyPI package ``face-recognition-models``; nothing is ever
downloaded. The package's own ``__init__`` needs ``pkg_resources`` (gone from recent
setuptools), so the files are located without importing it. dlib (PyPI ``dlib-bin``) is
imported only here, when the models are first needed.

Example:
    >>> models = load_face_models()  # cached: loaded once per process
    >>> models is load_face_models()
    True
    >>> models.fingerprint  # of the weight files: galleries refuse other models' embeddings
    'd7834519acc30f48'
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from siamkit.run import fingerprint_weights

EXTRA_HINT = "pip install 'siamkit[faces]' (dlib-bin and face-recognition-models)"
MODELS_PACKAGE = "face_recognition_models"
RECOGNITION_FILE = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
CHIP_SIZE = 150  # the ResNet's input side, in pixels (dlib's compute_face_descriptor default)
CHIP_PADDING = 0.25  # margin around the aligned face, as a fraction of its size (dlib's default)
EMBEDDING_DIM = 128


def import_dlib() -> Any:
    """The ``dlib`` module, or an ImportError naming the ``faces`` extra."""
    try:
        import dlib
    except ImportError:
        raise ImportError(f"face verification needs dlib: {EXTRA_HINT}") from None
    return dlib


def models_dir() -> Path:
    """The folder of ``face-recognition-models``' weight files.

    Raises:
        ImportError: The package is not installed (names the ``faces`` extra).
    """
    spec = importlib.util.find_spec(MODELS_PACKAGE)  # finds, does not run, the package
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face verification needs dlib's face models: {EXTRA_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (RECOGNITION_FILE, LANDMARKS_FILE):
        if not (folder / name).is_file():
            raise ImportError(
                f"{folder / name} is missing: the face-recognition-models package is "
                f"incomplete; reinstall it ({EXTRA_HINT})"
            )
    return folder


@dataclass(frozen=True)
class FaceModels:
    """dlib's detector, landmark predictor and embedding network, loaded once.

    Attributes:
        detector: ``dlib.fhog_object_detector`` (frontal faces).
        landmarks: ``dlib.shape_predictor`` with 5 points.
        recognizer: ``dlib.face_recognition_model_v1`` (the ResNet).
        fingerprint: :func:`~siamkit.run.fingerprint_weights` of the two weight files and
            the chip geometry: galleries refuse embeddings of any other face model.
        lock: Held around every dlib call (its objects are not documented thread-safe, and the
            service embeds on a worker thread while the gallery may re-embed on another).
        dlib: The dlib module.
    """

    detector: Any
    landmarks: Any
    recognizer: Any
    fingerprint: str
    lock: threading.Lock
    dlib: Any


@lru_cache(maxsize=1)
def load_face_models() -> FaceModels:
    """Load dlib's face models from ``face-recognition-models`` (once per process, ~1 s).

    Raises:
        ImportError: dlib or the models package is missing; names the ``faces`` extra.
    """
    dlib = import_dlib()
    folder = models_dir()
    weights = {
        name: np.frombuffer((folder / name).read_bytes(), dtype=np.uint8)
        for name in (RECOGNITION_FILE, LANDMARKS_FILE)
    }
    weights["chip"] = np.array([CHIP_SIZE, CHIP_PADDING], dtype=np.float64)
    return FaceModels(
        detector=dlib.get_frontal_face_detector(),
        landmarks=dlib.shape_predictor(str(folder / LANDMARKS_FILE)),
        recognizer=dlib.face_recognition_model_v1(str(folder / RECOGNITION_FILE)),
        fingerprint=fingerprint_weights(weights),
        lock=threading.Lock(),
        dlib=dlib,
    )
