"""Build a service from paths: a model (run folder, application model folder or ONNX file) and
optionally a gallery.

Example:
    >>> from siamkit.index import Gallery
    >>> Gallery.create("gallery", "runs/digits").close()
    >>> config = ServiceConfig(api_key="k" * 32)  # e.g. from $SIAMKIT_API_KEY
    >>> app = load_service("runs/digits", gallery_dir="gallery", config=config)
    >>> app = load_service(None, onnx="model.onnx", config=config)  # no run folder needed
    >>> app = load_service("runs/digits", onnx="model.onnx", config=config)  # the run's calibration
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from siamkit.index import Gallery
from siamkit.run import DecisionRule, Embedder, load_embedder, no_threshold_error, open_run
from siamkit.serving.app import create_app
from siamkit.serving.config import ServiceConfig


def service_rule(embedder: Embedder, run_dir: str | Path | None) -> DecisionRule:
    """The rule the service decides by: the run's (its calibration, else its validation
    threshold) when a run folder is given beside an ONNX file of its weights, else the model's
    own.

    Raises:
        ValueError: The ONNX file was not exported from that run, or there is no threshold.
    """
    if run_dir is not None and Path(run_dir).resolve() != Path(embedder.source).resolve():
        record = open_run(run_dir)
        exported = embedder.fingerprint.partition(":")[0]
        if exported != record.fingerprint():
            raise ValueError(
                f"{embedder.source} was not exported from {run_dir} (weights fingerprint "
                f"{exported} against the run's {record.fingerprint()}); export this run "
                f"(`siamkit export {run_dir}`) or serve the ONNX file alone"
            )
        rule = record.decision_rule(embedder.larger_is_closer)
    else:
        rule = embedder.decision_rule()
    if rule is None:
        raise no_threshold_error(run_dir if run_dir is not None else embedder.source)
    return rule


def load_service(
    run_dir: str | Path | None,
    gallery_dir: str | Path | None = None,
    onnx: str | Path | None = None,
    config: ServiceConfig | None = None,
) -> FastAPI:
    """The FastAPI app for a model (its decision rule decides same/different) and a gallery.

    Args:
        run_dir: A model folder: a run from ``siamkit train`` (calibrated with
            ``siamkit calibrate`` for probabilities), a ``siamkit faces init`` folder, or an
            exported ``.onnx`` file; None with ``onnx``.
        gallery_dir: A gallery from ``siamkit gallery create``, or None for no gallery endpoints.
        onnx: Serve this exported model; with ``run_dir`` too, the run's calibration decides
            (the file must hold that run's weights).
        config: Limits, batching and security.

    Raises:
        ValueError: Anything that cannot be loaded, a gallery of another model, or insecure
            settings; says how to fix it.
    """

    config = config or ServiceConfig()
    config.check()  # before loading anything heavy
    model = onnx if onnx is not None else run_dir
    if model is None:
        raise ValueError("nothing to serve: give a run folder or --onnx FILE")
    embedder = load_embedder(model)
    rule = service_rule(embedder, run_dir)
    gallery = None
    if gallery_dir is not None:
        gallery = Gallery.open(gallery_dir, embedder=embedder)  # refuses another model
    return create_app(embedder, rule, config, gallery)
