"""Track through a video file or a folder of frames, streaming (frames are not all held), and
write the boxes as CSV or as a video with the box drawn."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from siamkit.apps.tracking.boxes import as_boxes
from siamkit.apps.tracking.otb import GROUNDTRUTH, image_files, is_otb_sequence, read_boxes
from siamkit.apps.tracking.tracker import Tracker
from siamkit.apps.tracking.video import (
    VIDEO_SUFFIXES,
    VideoWriter,
    draw_box,
    iter_folder,
    iter_video,
    video_fps,
)

BOX_SUFFIXES = (".csv", ".txt")


class FrameSource(NamedTuple):
    """Frames to track and what is known about them."""

    frames: Iterator[np.ndarray]  # (H, W, 3) RGB uint8, one at a time
    fps: float  # the source's frame rate (25 for folders)
    groundtruth: np.ndarray | None  # (T, 4) when the folder is an OTB sequence


def open_frames(path: str | Path, max_frames: int | None = None) -> FrameSource:
    """Open a video file, an OTB sequence folder or a folder of images.

    Raises:
        ValueError: Nothing readable at ``path``.
    """
    path = Path(path)
    if path.is_dir():
        truth = None
        folder = path
        if is_otb_sequence(path):
            truth = read_boxes(path / GROUNDTRUTH)
            folder = path / "img"
        elif (path / "img").is_dir():
            folder = path / "img"
        files = image_files(folder)[:max_frames]
        return FrameSource(iter_folder(files), 25.0, None if truth is None else truth[: len(files)])
    if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
        return FrameSource(iter_video(path, max_frames), video_fps(path), None)
    raise ValueError(
        f"{path} is neither a video ({', '.join(VIDEO_SUFFIXES)}) nor a folder of frames"
    )


class TrackResult(NamedTuple):
    """What tracking a stream gave."""

    boxes: np.ndarray  # (T, 4)
    seconds: float  # time in tracker calls (init + updates)

    @property
    def fps(self) -> float:
        """Tracked frames per second (tracker time only)."""
        return len(self.boxes) / self.seconds if self.seconds > 0 else float("inf")


def track_stream(
    tracker: Tracker,
    source: FrameSource,
    first_box: np.ndarray,
    out: str | Path | None = None,
) -> TrackResult:
    """Track every frame of ``source`` from ``first_box``; write a video with the boxes drawn
    when ``out`` is a video path (boxes files are written by :func:`write_boxes_csv`).

    Example (a generated sequence written as a video, tracked by an untrained network; the
    demonstration video of ``siamkit track`` is opencv-doc's ``vtest.avi``):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=1)  # digits over noise, 10 frames
        >>> from siamkit.apps.tracking.network import SiamFC
        >>> from siamkit.apps.tracking.tracker import SiamFCTracker
        >>> with VideoWriter("clip.mp4", fps=10) as w:
        ...     for t in range(len(seqs[0])):
        ...         w.write(seqs[0].frame(t))
        >>> frames = open_frames("clip.mp4")
        >>> tracker = SiamFCTracker(SiamFC())
        >>> result = track_stream(tracker, frames, seqs[0].boxes[0], out="tracked.mp4")
        >>> result.boxes.shape, frames.fps
        ((10, 4), 10.0)
    """
    writer = None
    if out is not None and Path(out).suffix.lower() in VIDEO_SUFFIXES:
        writer = VideoWriter(out, source.fps)
    boxes: list[np.ndarray] = []
    seconds = 0.0
    try:
        for t, frame in enumerate(source.frames):
            start = time.perf_counter()
            if t == 0:
                tracker.init(frame, first_box)
                box = as_boxes(first_box)[0]
            else:
                box = tracker.update(frame)
            seconds += time.perf_counter() - start
            boxes.append(box)
            if writer is not None:
                writer.write(draw_box(frame, box))
    finally:
        if writer is not None:
            writer.close()
    if not boxes:
        raise ValueError("no frame to track")
    return TrackResult(np.stack(boxes), seconds)


def write_boxes_csv(path: str | Path, boxes: np.ndarray) -> Path:
    """Write ``frame,x,y,w,h`` rows (frame numbers from 0), boxes rounded to 0.01 px."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "x", "y", "w", "h"])
        for t, box in enumerate(as_boxes(boxes)):
            w.writerow([t, *(f"{v:.2f}" for v in box)])
    tmp.replace(path)
    return path


def read_boxes_csv(path: str | Path) -> np.ndarray:
    """Read a file written by :func:`write_boxes_csv` back as ``(T, 4)``."""
    with Path(path).open(newline="") as f:
        rows = list(csv.DictReader(f))
    return as_boxes([[float(r[k]) for k in ("x", "y", "w", "h")] for r in rows])
