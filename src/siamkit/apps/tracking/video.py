"""Frames in and out: videos through OpenCV (the ``track`` extra), image folders through Pillow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


def opencv() -> ModuleType:
    """Import OpenCV or say which extra installs it."""
    try:
        import cv2
    except ImportError:
        raise ImportError(
            "reading and writing videos needs OpenCV: pip install 'siamkit[track]' "
            "(opencv-python-headless)"
        ) from None
    return cv2


def iter_video(path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield a video's frames as ``(H, W, 3)`` RGB uint8.

    Raises:
        ValueError: OpenCV cannot open the file.
    """
    cv2 = opencv()
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path} (missing, or a codec OpenCV lacks)")
    try:
        n = 0
        while max_frames is None or n < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            n += 1
            yield bgr[:, :, ::-1].copy()
    finally:
        capture.release()


def read_video(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """All (or the first ``max_frames``) frames of a video, ``(F, H, W, 3)`` RGB uint8."""
    frames = list(iter_video(path, max_frames))
    if not frames:
        raise ValueError(f"video {path} has no readable frame")
    return np.stack(frames)


def video_fps(path: str | Path) -> float:
    """The frame rate a video declares (25 when it declares none)."""
    cv2 = opencv()
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    capture.release()
    return fps if fps > 0 else 25.0


def iter_folder(files: list[Path]) -> Iterator[np.ndarray]:
    """Yield image files as ``(H, W, 3)`` RGB uint8."""
    for f in files:
        with Image.open(f) as im:
            yield np.asarray(im.convert("RGB"))


class VideoWriter:
    """Write RGB frames to a video file (``.mp4``: mp4v, ``.avi``: MJPG) with OpenCV.

    Example:
        >>> frame = np.zeros((96, 128, 3), np.uint8)
        >>> with VideoWriter("out.mp4", fps=10) as w:
        ...     for t in range(5):
        ...         w.write(draw_box(frame, np.array([10 + 4 * t, 20, 30, 40])))
        >>> read_video("out.mp4").shape
        (5, 96, 128, 3)
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        self._cv2 = opencv()
        self._writer: Any = None

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` RGB uint8 frame (the first fixes the video's size)."""
        if self._writer is None:
            codec = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
            h, w = frame.shape[:2]
            fourcc = self._cv2.VideoWriter_fourcc(*codec)
            self._writer = self._cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise ValueError(f"OpenCV cannot write {self.path} with codec {codec}")
        self._writer.write(np.ascontiguousarray(frame[:, :, ::-1]))

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def draw_box(
    frame: np.ndarray,
    box: np.ndarray,
    colour: tuple[int, int, int] = (255, 0, 0),
    thickness: int = 2,
) -> np.ndarray:
    """A copy of ``frame`` with ``box`` (x, y, w, h) drawn as a rectangle outline (numpy only)."""
    out = frame.copy()
    H, W = out.shape[:2]
    x0, y0 = int(round(box[0])), int(round(box[1]))
    x1, y1 = int(round(box[0] + box[2])) - 1, int(round(box[1] + box[3])) - 1
    c = np.array(colour, np.uint8)
    for k in range(thickness):
        xa, xb = max(0, x0 + k), min(W - 1, x1 - k)
        ya, yb = max(0, y0 + k), min(H - 1, y1 - k)
        if xa > xb or ya > yb:
            break
        for y in (y0 + k, y1 - k):
            if 0 <= y < H:
                out[y, xa : xb + 1] = c
        for x in (x0 + k, x1 - k):
            if 0 <= x < W:
                out[ya : yb + 1, x] = c
    return out
