"""Launching real ``torchrun`` jobs from tests: 2 CPU processes (gloo), one thread each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]


def job_env() -> dict[str, str]:
    """The environment of a test job: one torch thread per process (2 cores in CI)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def torchrun(args: list[str], nproc: int = 2, timeout: float = 120) -> str:
    """Run ``torchrun --standalone --nproc-per-node N ARGS``; its output, or fail with it."""
    done = subprocess.run(
        [*TORCHRUN, str(nproc), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=job_env(),
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr
