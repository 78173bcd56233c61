"""The OTB layout reader, on tiny sequences written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamkit.apps.tracking.otb import OTBSequence, load_otb, read_boxes, write_otb


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((12, 16, 3), 20 * t, np.uint8) for t in range(n)]


def _write(root: Path, gt_text: str, n: int, names: list[str] | None = None) -> Path:
    (root / "img").mkdir(parents=True)
    for t, frame in enumerate(_frames(n)):
        name = names[t] if names else f"{t + 1:04d}.jpg"
        Image.fromarray(frame).save(root / "img" / name, quality=100)
    (root / "groundtruth_rect.txt").write_text(gt_text)
    return root


def test_reads_commas_tabs_and_spaces(tmp_path: Path) -> None:
    seq = OTBSequence(_write(tmp_path / "Toy", "1,2,3,4\n5\t6\t7\t8\n 9 10  11 12 \n\n", 3))
    assert seq.name == "Toy" and len(seq) == 3
    np.testing.assert_array_equal(seq.boxes, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    frame = seq.frame(2)
    assert frame.shape == (12, 16, 3) and frame.dtype == np.uint8
    assert abs(int(frame[5, 5, 0]) - 40) <= 2  # JPEG of a flat frame of value 40


def test_frames_are_in_numeric_order(tmp_path: Path) -> None:
    names = ["1.jpg", "2.jpg", "10.jpg"]  # lexical order would put 10 before 2
    seq = OTBSequence(_write(tmp_path / "S", "0,0,1,1\n" * 3, 3, names))
    assert [p.name for p in seq.files] == names
    assert int(seq.frame(2)[0, 0, 0]) > int(seq.frame(1)[0, 0, 0])


def test_mismatched_counts_and_bad_lines_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 frames in img/ but 3 boxes"):
        OTBSequence(_write(tmp_path / "A", "0,0,1,1\n" * 3, 2))
    with pytest.raises(ValueError, match=r"groundtruth_rect\.txt:2: expected four numbers"):
        read_boxes(_write(tmp_path / "B", "0,0,1,1\n0,0,1\n", 2) / "groundtruth_rect.txt")
    with pytest.raises(ValueError, match=r"groundtruth_rect\.txt is missing"):
        OTBSequence(tmp_path)


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    boxes = np.array([[1, 2, 3, 4], [1.5, 2.25, 3, 4]])
    write_otb(tmp_path / "root" / "b", _frames(2), boxes)
    write_otb(tmp_path / "root" / "a", _frames(2), boxes)
    seqs = load_otb(tmp_path / "root")
    assert [s.name for s in seqs] == ["a", "b"]
    np.testing.assert_array_equal(seqs[0].boxes, boxes)
    assert load_otb(tmp_path / "root" / "a")[0].name == "a"
    with pytest.raises(ValueError, match="no OTB sequence"):
        load_otb(tmp_path)
