"""Long commands show progress on a terminal, and nothing in a pipe or with --json."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from siamkit.cli import progress
from siamkit.cli.main import app


def _inputs(folder: Path, n: int) -> list[str]:
    folder.mkdir()
    paths = []
    for i in range(n):
        pixels = np.random.default_rng(i).integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
        paths.append(str(folder / f"{i}.png"))
    return paths


def test_embed_shows_a_bar_with_counts_on_a_terminal(
    trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "err", Console(file=screen, force_terminal=True, width=100))
    monkeypatch.setattr("siamkit.cli.main.EMBED_CHUNK", 2)
    files = _inputs(tmp_path / "x", 5)
    out = str(tmp_path / "e.npy")
    r = CliRunner().invoke(app, ["embed", str(trained_run), *files, "--out", out])
    assert r.exit_code == 0, r.output
    assert "embedding" in screen.getvalue() and "5/5" in screen.getvalue()
    assert np.load(tmp_path / "e.npy").shape[0] == 5  # the chunks make the whole


def test_nothing_is_shown_in_a_pipe_or_with_json() -> None:
    assert progress.shown(as_json=True) is False
    with progress.progress_bar(3, "x", as_json=True) as advance:
        advance(3)  # a no-op, no error
