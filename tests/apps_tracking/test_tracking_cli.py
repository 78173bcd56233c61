"""``siamkit track`` on a tiny folder and a tiny video written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from siamkit.apps.tracking.checkpoint import build_net, save_tracker
from siamkit.apps.tracking.generator import generate_sequences
from siamkit.apps.tracking.otb import write_otb
from siamkit.apps.tracking.stream import read_boxes_csv
from siamkit.apps.tracking.tracker import TrackerParams
from siamkit.cli.main import app

from .helpers import blob_objects, noise_backgrounds, small_config

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("tracker") / "run"
    save_tracker(run, build_net((4, 8, 8, 8), 63, 127), TrackerParams())
    return run


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], np.ndarray]:
    seq = generate_sequences(blob_objects(), noise_backgrounds(), 1, 0, small_config(length=6))[0]
    return [seq.frame(t) for t in range(len(seq))], seq.boxes


def test_track_an_otb_folder_starts_from_its_ground_truth(
    tmp_path: Path, model: Path, sequence: tuple[list[np.ndarray], np.ndarray]
) -> None:
    frames, boxes = sequence
    folder = write_otb(tmp_path / "Toy", frames, boxes)
    out = tmp_path / "boxes.csv"
    result = runner.invoke(app, ["track", str(folder), "--out", str(out), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "tracked 6 frames" in result.output and "success AUC" in result.output
    got = read_boxes_csv(out)
    assert got.shape == (6, 4)
    np.testing.assert_allclose(got[0], boxes[0], atol=0.01)


def test_track_a_plain_folder_with_init(tmp_path: Path, model: Path, sequence: tuple) -> None:
    frames, _ = sequence
    for t, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"f{t}.png")
    out = tmp_path / "b.csv"
    args = [
        "track",
        str(tmp_path),
        "--init",
        "10,12,15,16",
        "--out",
        str(out),
        "--model",
        str(model),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(read_boxes_csv(out)[0], [10, 12, 15, 16])


def test_track_a_video_to_video_and_csv(tmp_path: Path, model: Path, sequence: tuple) -> None:
    cv2 = pytest.importorskip("cv2")
    frames, boxes = sequence
    video = tmp_path / "in.avi"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    for f in frames:
        writer.write(f[:, :, ::-1].copy())
    writer.release()
    init = ",".join(str(int(v)) for v in boxes[0])
    for name in ("tracked.mp4", "tracked.csv"):
        out = tmp_path / name
        args = ["track", str(video), "--init", init, "--out", str(out), "--model", str(model)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "tracked 6 frames" in result.output
    capture = cv2.VideoCapture(str(tmp_path / "tracked.mp4"))
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    assert n == 6
    assert read_boxes_csv(tmp_path / "tracked.csv").shape == (6, 4)


def test_track_errors_name_the_fix(tmp_path: Path, model: Path, sequence: tuple) -> None:
    frames, _ = sequence
    Image.fromarray(frames[0]).save(tmp_path / "0.png")
    result = runner.invoke(app, ["track", str(tmp_path), "--model", str(model)])
    assert result.exit_code == 2 and "--init" in result.output
    result = runner.invoke(
        app, ["track", str(tmp_path), "--init", "1,1,5,5", "--model", str(tmp_path / "none")]
    )
    assert result.exit_code == 2 and "siamkit tracker train" in result.output
    result = runner.invoke(app, ["track", str(tmp_path), "--init", "1,1,5,5", "--out", "x.json"])
    assert result.exit_code == 2 and ".csv" in result.output


def test_tracker_eval_on_otb_folders_writes_the_table_and_json(
    tmp_path: Path, model: Path, sequence: tuple
) -> None:
    import json

    frames, boxes = sequence
    write_otb(tmp_path / "otb" / "Toy", frames, boxes)
    report = tmp_path / "eval.json"
    args = ["tracker", "eval", str(model), "--otb", str(tmp_path / "otb"), "--json", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(report.read_text())
    assert [r["tracker"] for r in payload["results"]] == ["stay", "untrained", "siamfc"]
    assert payload["frames"] == 6 and payload["sequences"] == 1
    stay = payload["results"][0]
    assert 0.0 <= stay["auc"] <= 1.0 and len(stay["success_curve"]) == 21
