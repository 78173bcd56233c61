"""`siamkit train --nproc N` hands its own command line to torchrun, minus --nproc."""

from __future__ import annotations

import sys

import pytest

from siamkit.cli.distributed import exec_torchrun, torchrun_argv, without_nproc


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--nproc", "2", "--epochs", "3"], ["train", "--epochs", "3"]),
        (["train", "--epochs", "3", "--nproc=4"], ["train", "--epochs", "3"]),
        (["train", "--nproc-x", "1"], ["train", "--nproc-x", "1"]),  # only the exact flag
        (["train"], ["train"]),
    ],
)
def test_without_nproc(argv: list[str], expected: list[str]) -> None:
    assert without_nproc(argv) == expected


def test_torchrun_command_is_pytorchs_launcher() -> None:
    cmd = torchrun_argv(["train", "--out", "runs/x", "--nproc", "3"], 3)
    assert cmd == [
        sys.executable,
        *("-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "3"),
        *("-m", "siamkit", "train", "--out", "runs/x"),
    ]


def test_refuses_one_process_and_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="2 or more"):
        exec_torchrun(1, ["train"])
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="drop --nproc"):
        exec_torchrun(2, ["train"])
