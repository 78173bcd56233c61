"""Build a service from paths: a run directory, optionally an ONNX file and a gallery.

Example:
    >>> app = load_service("runs/demo", gallery_dir="galleries/digits",
    ...                    config=ServiceConfig(api_key=os.environ["SIAMKIT_API_KEY"]))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from siamkit.serving.config import ServiceConfig
from siamkit.serving.decision import DecisionRule


def load_embedder(run_dir: str | Path, onnx: str | Path | None = None) -> Any:
    """The model to serve: the run's best checkpoint (torch), or an exported ONNX file.

    A run is served by :class:`~siamkit.index.RunEmbedder` (a text run through its own
    tokenizer), the same embedder the gallery and the CLI use; a
    ``siamkit faces init`` folder by :class:`~siamkit.apps.faces.FaceEmbedder`.

    Raises:
        ValueError: Not a run directory, or an ONNX file that is not a siamkit export.
    """
    if onnx is not None:
        from siamkit.runtime import OnnxEncoder

        return OnnxEncoder(onnx)
    from siamkit.apps.faces.run import is_face_run

    if is_face_run(run_dir):  # `siamkit faces init` folder: dlib's pretrained face encoder
        from siamkit.apps.faces import FaceEmbedder

        return FaceEmbedder.from_run_dir(run_dir)
    from siamkit.index.run_embedder import RunEmbedder

    return RunEmbedder(run_dir)


def load_service(
    run_dir: str | Path,
    gallery_dir: str | Path | None = None,
    onnx: str | Path | None = None,
    config: ServiceConfig | None = None,
) -> FastAPI:
    """The FastAPI app for a run (its calibration decides same/different) and a gallery.

    Args:
        run_dir: A run directory from ``siamkit train`` (calibrated with ``siamkit calibrate``
            for probabilities).
        gallery_dir: A gallery from ``siamkit gallery create``, or None for no gallery endpoints.
        onnx: Serve this exported model instead of the run's PyTorch checkpoint.
        config: Limits, batching and security.

    Raises:
        ValueError: Anything that cannot be loaded, a gallery of another model, or insecure
            settings; says how to fix it.
    """
    from siamkit.serving.app import create_app

    config = config or ServiceConfig()
    config.check()  # before loading anything heavy
    embedder = load_embedder(run_dir, onnx)
    rule = DecisionRule.from_run(run_dir, embedder)
    gallery = None
    if gallery_dir is not None:
        from siamkit.index import Gallery

        gallery = Gallery.open(gallery_dir, embedder=embedder)  # refuses another model
    return create_app(embedder, rule, config, gallery)
