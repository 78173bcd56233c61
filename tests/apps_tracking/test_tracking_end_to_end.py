"""Tracking end to end: the loop's geometry with a pixel 'encoder', and a tiny trained run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from siamkit.apps.tracking.boxes import centre_error, iou
from siamkit.apps.tracking.checkpoint import load_tracker
from siamkit.apps.tracking.generator import generate_sequences
from siamkit.apps.tracking.heldout import compare_trackers
from siamkit.apps.tracking.metrics import score_sequence
from siamkit.apps.tracking.network import SiamFC
from siamkit.apps.tracking.tracker import SiamFCTracker, run_tracker
from siamkit.apps.tracking.training import TrackerTrainConfig, train_tracker

from .helpers import blob_objects, noise_backgrounds, small_config


class PixelEncoder(nn.Module):
    """Features = centred pixels (stride 1): the tracker becomes plain template matching."""

    stride = 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images - 0.5


def test_template_matching_follows_a_moving_square() -> None:
    rng = np.random.default_rng(0)
    T, H, W = 15, 72, 96
    frames, truth = [], []
    for t in range(T):
        frame = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
        x, y = 20 + 2 * t, 20 + t  # moves right 2 px and down 1 px per frame
        frame[y : y + 10, x : x + 10] = 230
        frames.append(frame)
        truth.append([x, y, 10, 10])
    net = SiamFC(PixelEncoder(), exemplar_size=20, search_size=40)  # s_z of a 10x10 box is 20
    boxes = run_tracker(SiamFCTracker(net), frames, np.array(truth[0], float))
    truth_arr = np.array(truth, float)
    assert centre_error(boxes, truth_arr).max() < 1.5
    assert iou(boxes, truth_arr).min() > 0.75


def test_a_tiny_run_trains_saves_loads_and_tracks(tmp_path: Path) -> None:
    cfg = small_config(length=8)
    objects, backgrounds = blob_objects(), noise_backgrounds()
    train = generate_sequences(objects, backgrounds, 4, seed=0, config=cfg)
    val = generate_sequences(objects, backgrounds, 1, seed=1, config=cfg)
    run = tmp_path / "run"
    config = TrackerTrainConfig(
        out=str(run), steps=3, batch_size=4, widths=(4, 8, 8, 8), val_every=2,
        window_grid=(0.1, 0.3), threads=1,
    )  # fmt: skip
    lines: list[str] = []
    train_tracker(config, (list(train), list(val)), log=lines.append)
    loaded = load_tracker(run)
    assert [h["step"] for h in loaded.metrics["history"]] == [2, 3]
    assert loaded.params.window_influence in (0.1, 0.3)
    assert loaded.config["train"]["widths"] == [4, 8, 8, 8]
    bare = load_tracker(run / "model.safetensors")  # weights alone: widths from the shapes
    for a, b in zip(bare.net.state_dict().values(), loaded.net.state_dict().values()):
        torch.testing.assert_close(a, b)

    test = generate_sequences(objects, backgrounds, 2, seed=2, config=cfg)
    rows = compare_trackers(run, list(test), threads=1)
    assert [r.name for r in rows] == ["stay", "untrained", "siamfc"]
    for r in rows:
        assert len(r.boxes) == 2 and r.boxes[0].shape == (8, 4)
        assert np.isfinite(np.concatenate(r.boxes)).all()
        assert 0.0 <= r.ope.auc <= 1.0 and r.fps > 0
    stay_auc = np.mean(
        [score_sequence(np.repeat(s.boxes[:1], len(s), 0), s.boxes).auc for s in test]
    )
    assert abs(rows[0].ope.auc - stay_auc) < 1e-12
