"""Issue 25: hostile inputs and bad options at the command line get one readable error and
exit status 2, never a traceback, and leave nothing half-written behind."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from siamkit.cli.main import app
from siamkit.data import load_data

runner = CliRunner()


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A PNG of a few dozen bytes whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def _digit_png(folder: Path, k: int = 0) -> Path:
    data = load_data("digits")
    path = folder / f"d{k}.png"
    Image.fromarray((data.x[k, 0].numpy() * 255).round().astype(np.uint8)).save(path)
    return path


def _refused(result: Result, *names: str) -> str:
    """The one-line error of a refused command (exit 2, no traceback), checked for ``names``."""
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in output
    flat = " ".join(output.split())
    for name in names:
        assert name in flat, (name, output)
    return flat


def test_decompression_bomb_is_refused_by_verify_and_embed(
    trained_run: Path, tmp_path: Path
) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", 20000, 20000)
    good = _digit_png(tmp_path)
    r = runner.invoke(app, ["verify", str(trained_run), str(good), str(bomb)])
    _refused(r, "bomb.png", "400000000 pixels", "64000000")
    r = runner.invoke(app, ["embed", str(trained_run), str(bomb), "--out", str(tmp_path / "e.npy")])
    _refused(r, "bomb.png", "400000000 pixels")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.png", "d0.png"]


@pytest.mark.parametrize("command", ["embed", "report", "export"])
def test_out_naming_a_folder_or_a_missing_folder_is_refused(
    trained_run: Path, tmp_path: Path, command: str
) -> None:
    image = _digit_png(tmp_path)
    folder = tmp_path / "existing"
    folder.mkdir()
    args = {"embed": [str(image)], "report": ["--pairs", "200"], "export": []}[command]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = runner.invoke(app, [command, str(trained_run), *args, "--out", str(folder)])
    assert "is a folder" in _refused(r, str(folder))
    missing = tmp_path / "no" / "such" / "out.file"
    r = runner.invoke(app, [command, str(trained_run), *args, "--out", str(missing)])
    assert "does not exist" in _refused(r, str(missing.parent), "mkdir -p")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no temporaries, no folders


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--margin", "inf"), ("--lr", "nan"), ("--temperature", "inf"),
     ("--uniformity", "nan"), ("--loss-option", "beta=inf")],
)  # fmt: skip
def test_non_finite_training_settings_are_refused_before_writing(
    tmp_path: Path, flag: str, value: str
) -> None:
    out = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", "digits", "--out", str(out), flag, value])
    assert "finite" in _refused(r, value.split("=")[-1])
    assert not out.exists()


def test_train_config_refuses_non_finite_floats() -> None:
    from siamkit.training import TrainConfig

    for setting in ("margin", "lr", "weight_decay", "temperature", "lr_gamma", "backbone_lr_mult"):
        with pytest.raises(ValueError, match="finite"):
            TrainConfig(**{setting: float("inf")})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        TrainConfig(input_mean=[float("nan")])


@pytest.mark.parametrize(("value", "expected"), [("nan", "not a finite number"),
                                                 ("inf", "not a finite number"),
                                                 ("-1", "negative")])  # fmt: skip
def test_verify_refuses_a_threshold_no_distance_can_meet(
    trained_run: Path, tmp_path: Path, value: str, expected: str
) -> None:
    a, b = _digit_png(tmp_path, 0), _digit_png(tmp_path, 1)
    r = runner.invoke(app, ["verify", str(trained_run), str(a), str(b), "--threshold", value])
    assert expected in _refused(r, "--threshold")
    r = runner.invoke(app, ["verify", str(trained_run), str(a), str(b), "--threshold", "0"])
    assert r.exit_code == 0, r.output
