"""The sequence generator's ground truth is where the object's pixels are."""

from __future__ import annotations

import numpy as np
import pytest

from siamkit.apps.tracking.generator import generate_sequence, generate_sequences

from .helpers import blob_objects, noise_backgrounds, small_config


def test_box_is_exactly_the_object_pixels() -> None:
    cfg = small_config(occlusion_probability=0.0, max_distractors=0, max_scale_change=0.4)
    for seq in generate_sequences(blob_objects(), noise_backgrounds(), 4, seed=3, config=cfg):
        assert seq.boxes.shape == (cfg.length, 4)
        sizes = set()
        for t in range(len(seq)):
            changed = np.any(seq.frame(t) != seq.background(t), axis=2)  # (H, W)
            x, y, w, h = (int(v) for v in seq.boxes[t])
            sizes.add((w, h))
            inside = np.zeros_like(changed)
            inside[y : y + h, x : x + w] = True
            assert not changed[~inside].any(), "object pixels outside its box"
            # the box is tight: each of its edge rows and columns holds an object pixel
            assert changed[y, x : x + w].any() and changed[y + h - 1, x : x + w].any()
            assert changed[y : y + h, x].any() and changed[y : y + h, x + w - 1].any()
            assert x >= 0 and y >= 0 and x + w <= cfg.frame_width and y + h <= cfg.frame_height
        assert len(sizes) > 1, "the object should change size"


def test_the_object_moves() -> None:
    seq = generate_sequence(
        "s", blob_objects(), noise_backgrounds(), np.random.default_rng(1), small_config()
    )
    travelled = np.abs(np.diff(seq.boxes[:, :2], axis=0)).sum()
    assert travelled > 2


def test_occluder_covers_the_target_while_shown() -> None:
    cfg = small_config(occlusion_probability=1.0, max_distractors=0, length=20)
    seq = generate_sequence("s", blob_objects(), noise_backgrounds(), np.random.default_rng(2), cfg)
    occ = seq.occluder
    assert occ is not None
    covered = [seq.occluded_fraction(t) for t in range(len(seq))]
    assert max(covered) > 0.1
    assert all(c == 0 for t, c in enumerate(covered) if not occ.start <= t < occ.stop)
    t = int(np.argmax(covered))
    x0, y0 = (int(v) for v in occ.corners[t])
    h, w = occ.texture.shape[:2]
    frame = seq.frame(t)
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    np.testing.assert_array_equal(
        frame[ya:yb, xa:xb], occ.texture[ya - y0 : yb - y0, xa - x0 : xb - x0]
    )


def test_sequences_are_a_function_of_the_seed() -> None:
    a = generate_sequences(blob_objects(), noise_backgrounds(), 2, seed=5, config=small_config())
    b = generate_sequences(blob_objects(), noise_backgrounds(), 2, seed=5, config=small_config())
    c = generate_sequences(blob_objects(), noise_backgrounds(), 2, seed=6, config=small_config())
    np.testing.assert_array_equal(a[1].frame(4), b[1].frame(4))
    np.testing.assert_array_equal(a[1].boxes, b[1].boxes)
    assert not np.array_equal(a[1].boxes, c[1].boxes)


def test_a_background_smaller_than_the_frame_is_refused() -> None:
    tiny = [np.zeros((1, 10, 10, 3), np.uint8)]
    with pytest.raises(ValueError, match="smaller than"):
        generate_sequence("s", blob_objects(), tiny, np.random.default_rng(0), small_config())
