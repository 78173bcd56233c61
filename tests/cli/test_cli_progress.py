"""Long commands show progress on a terminal, and nothing in a pipe or with --json."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from siamkit.cli import progress
from siamkit.cli.main import app
from siamkit.progress import listener, task


def _inputs(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        pixels = np.random.default_rng(i).integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
        paths.append(str(folder / f"{i}.png"))
    return paths


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What a terminal on stderr would show."""
    shown = io.StringIO()
    monkeypatch.setattr(progress, "err", Console(file=shown, force_terminal=True, width=120))
    return shown


def test_inside_status_each_library_step_is_a_row_with_its_count(screen: io.StringIO) -> None:
    with progress.status("working"):
        reporter = listener()
        assert isinstance(reporter, progress.BarReporter)
        with task("embedding", total=5) as advance:
            advance(3)
            rows = {t.description: t for t in reporter.bar.tasks}
            assert (rows["embedding"].completed, rows["embedding"].total) == (3, 5)
            assert rows["working"].total is None  # the command's own row: a spinner
        assert "embedding" not in {t.description for t in reporter.bar.tasks}
    assert listener() is None
    assert "working" in screen.getvalue() and "3/5" in screen.getvalue()


def test_off_a_terminal_or_with_json_status_shows_nothing_and_nobody_listens() -> None:
    quiet = io.StringIO()
    with progress.status("working", console=Console(file=quiet, force_terminal=False)):
        assert listener() is None
    with progress.status("working", as_json=True, console=Console(file=quiet, force_terminal=True)):
        assert listener() is None
    assert quiet.getvalue() == ""


def test_embed_shows_reading_and_embedding_with_counts(
    trained_run: Path, tmp_path: Path, screen: io.StringIO
) -> None:
    files = _inputs(tmp_path / "x", 5)
    out = str(tmp_path / "e.npy")
    r = CliRunner().invoke(app, ["embed", str(trained_run), *files, "--out", out])
    assert r.exit_code == 0, r.output
    shown = screen.getvalue()
    assert "reading images" in shown and "embedding" in shown and "5/5" in shown
    assert np.load(tmp_path / "e.npy").shape[0] == 5


def test_gallery_enroll_and_reembed_show_their_counts(
    trained_run: Path, tmp_path: Path, screen: io.StringIO
) -> None:
    gallery = str(tmp_path / "g")
    files = _inputs(tmp_path / "people" / "ann", 4)
    runner = CliRunner()
    r = runner.invoke(app, ["gallery", "create", gallery, "--model", str(trained_run)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["gallery", "enroll", gallery, *files, "--label", "ann"])
    assert r.exit_code == 0, r.output
    assert "enrolling into" in screen.getvalue() and "4/4" in screen.getvalue()
    screen.truncate(0)
    r = runner.invoke(app, ["gallery", "reembed", gallery, "--model", str(trained_run)])
    assert r.exit_code == 0, r.output
    assert "re-embedding" in screen.getvalue() and "4/4" in screen.getvalue()


def test_evaluate_shows_its_steps_on_a_terminal_and_nothing_with_json(
    trained_run: Path, tmp_path: Path, screen: io.StringIO
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    small = ["--pairs", "400", "--bootstrap", "20", "--episodes", "20"]
    r = CliRunner().invoke(app, ["evaluate", str(run), *small])
    assert r.exit_code == 0, r.output
    shown = screen.getvalue()
    assert "evaluating" in shown and "embedding" in shown and "bootstrap intervals" in shown
    assert "20/20" in shown
    screen.truncate(0)
    screen.seek(0)
    r = CliRunner().invoke(app, ["evaluate", str(run), *small, "--json"])
    assert r.exit_code == 0, r.output
    assert screen.getvalue() == ""
