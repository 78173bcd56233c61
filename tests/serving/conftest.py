"""Fixtures for the service tests: a calibrated digits run, a service over a fake vector model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.service_fakes import KEY, LinearEmbedder, platt_rule
from siamkit.serving import ServiceConfig, create_app


@pytest.fixture(scope="session")
def calibrated_run(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the digits run with a calibration (the shared run stays uncalibrated)."""
    from siamkit.evaluation.calibrated_run import calibrate_run

    run = tmp_path_factory.mktemp("serving") / "run"
    shutil.copytree(trained_run, run)
    calibrate_run(run, num_pairs=2000)
    return run


@pytest.fixture()
def vector_client() -> Iterator[tuple[TestClient, LinearEmbedder]]:
    """A service over a 4 -> 2 linear vector model, writes allowed with KEY."""
    emb = LinearEmbedder(np.array([[1, 0], [0, 1], [0, 0], [0, 0]], dtype=np.float32))
    app = create_app(emb, platt_rule(), ServiceConfig(api_key=KEY))
    with TestClient(app) as client:
        yield client, emb
