"""The CLI starts without importing torch, scikit-learn or numpy: they come with the command that
needs them (`siamkit --help` stays quick, and the base install runs `verify model.onnx`)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_imports_neither_torch_nor_scikit_learn() -> None:
    code = (
        "import sys, siamkit.cli.main; "
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'faiss', 'fastapi', 'numpy') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_help_lists_every_command_group_without_loading_them() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from siamkit.cli.main import app; "
        "r = CliRunner().invoke(app, ['--help']); "
        "print(r.exit_code, all(g in r.output for g in ('faces', 'gallery', 'signatures', "
        "'recommend', 'tracker', 'train', 'verify')), 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True", "False"]


def test_version_answers_without_loading_the_commands() -> None:
    from siamkit import __version__

    code = (
        "import sys; sys.argv = ['siamkit', '--version']; from siamkit.cli.entry import main; main(); "
        "print(sorted(m for m in ('typer', 'rich', 'siamkit.cli.main') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [f"siamkit {__version__}", "[]"]
