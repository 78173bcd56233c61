"""Modules that once formed an import cycle import on their own, whichever comes first."""

from __future__ import annotations

import subprocess
import sys

import pytest

FIRST = [
    "siamkit.data.text",
    "siamkit.data.wordnet",
    "siamkit.data.sources",
    "siamkit.dedup",
    "siamkit.run.config",
    "siamkit.models.pretrained_image",
    "siamkit.models.hf_vision",
    "siamkit.index.store",
    "siamkit.index.sqlite_store",
]


@pytest.mark.parametrize("module", FIRST)
def test_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-1500:]
