"""``siamkit train --nproc N``: hand the command line to ``torchrun``, PyTorch's own launcher.

Nothing is launched here: the process is replaced (``exec``) by
``python -m torch.distributed.run --standalone --nproc-per-node N -m siamkit train ...`` with
the same arguments minus ``--nproc``, and ``torchrun`` starts and watches the N processes.
Two machines, or any other ``torchrun`` option: call ``torchrun`` yourself
(docs/distributed.md).

Example:
    >>> torchrun_argv(["train", "--nproc", "2", "--epochs", "3"], 2)[3:]
    ['--standalone', '--nproc-per-node', '2', '-m', 'siamkit', 'train', '--epochs', '3']
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

NPROC = "--nproc"


def without_nproc(argv: list[str]) -> list[str]:
    """``argv`` with ``--nproc N`` / ``--nproc=N`` taken out."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == NPROC:
            skip = True
        elif not arg.startswith(NPROC + "="):
            out.append(arg)
    return out


def torchrun_argv(argv: list[str], nproc: int) -> list[str]:
    """The ``torchrun`` command line that runs the siamkit command ``argv`` on ``nproc``
    processes of this machine (``argv`` without the program name, e.g. ``["train", ...]``)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "-m",
        "siamkit",
        *without_nproc(argv),
    ]


def exec_torchrun(nproc: int, argv: list[str] | None = None) -> NoReturn:
    """Replace this process by ``torchrun`` running ``siamkit`` on ``nproc`` processes.

    Args:
        nproc: Processes to start on this machine (>= 2).
        argv: The siamkit arguments; default: this process's own (``sys.argv[1:]``).

    Raises:
        ValueError: ``nproc`` < 2, or already running under ``torchrun``.
    """
    if nproc < 2:
        raise ValueError(f"--nproc {nproc}: give 2 or more processes (or leave --nproc out)")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ValueError(
            "--nproc asked for inside a torchrun process; torchrun already sets the process "
            "count: drop --nproc"
        )
    args = torchrun_argv(list(sys.argv[1:] if argv is None else argv), nproc)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(args[0], args)
