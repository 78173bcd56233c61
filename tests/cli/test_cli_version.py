"""`siamkit --version` names the installed package's version."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from siamkit.cli.main import app


def test_version_prints_the_package_version() -> None:
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"siamkit {version('siamkit')}"
