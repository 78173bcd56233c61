"""The OTB sequence layout: ``SEQUENCE/img/*.jpg`` and ``SEQUENCE/groundtruth_rect.txt``.

One box per line, ``x,y,w,h`` separated by commas, tabs or spaces (OTB-2013/2015 files use all
three). Boxes are read as written: OTB files use MATLAB's 1-based pixel coordinates, and a
tracker started from the first box reports boxes in the same frame of reference, so scores are
unaffected. Frames are sorted by the number in their name (``0001.jpg`` ... ``0100.jpg``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from siamkit.apps.tracking.boxes import as_boxes

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
GROUNDTRUTH = "groundtruth_rect.txt"


def read_boxes(path: str | Path) -> np.ndarray:
    """Read a ground-truth file: one ``x,y,w,h`` box per non-empty line.

    Returns:
        ``(T, 4)`` float64 boxes.

    Raises:
        ValueError: A line does not hold four numbers; the message names the file and line.

    Example:
        >>> _ = Path("groundtruth_rect.txt").write_text("198,214,34,81\\n197,214,34,81\\n")
        >>> read_boxes("groundtruth_rect.txt")[:1]
        array([[198., 214.,  34.,  81.]])
    """
    path = Path(path)
    rows: list[list[float]] = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        fields = [f for f in re.split(r"[,\s]+", line.strip()) if f]
        if not fields:
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = []
        if len(values) != 4:
            raise ValueError(
                f"{path}:{n}: expected four numbers x,y,w,h separated by commas, tabs or "
                f"spaces, got {line.strip()!r}"
            )
        rows.append(values)
    if not rows:
        raise ValueError(f"{path} holds no boxes")
    return as_boxes(rows)


def write_boxes(path: str | Path, boxes: np.ndarray) -> None:
    """Write boxes ``(T, 4)`` one ``x,y,w,h`` per line (commas), the layout :func:`read_boxes`
    reads; whole numbers are written without a decimal point."""
    lines = [",".join(f"{v:g}" for v in box) for box in as_boxes(boxes)]
    Path(path).write_text("\n".join(lines) + "\n")


def image_files(folder: str | Path) -> list[Path]:
    """Image files of a folder sorted by the numbers in their names (``2.jpg`` before ``10.jpg``).

    Raises:
        ValueError: The folder does not exist or holds no images.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of frames")
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise ValueError(f"{folder} holds no frames ({', '.join(IMAGE_SUFFIXES)})")
    return sorted(files, key=_frame_key)


def _frame_key(path: Path) -> tuple[list[int | str], str]:
    parts: list[int | str] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.stem)]
    return [p for p in parts if p != ""], path.name


class OTBSequence:
    """An OTB-layout sequence on disk; frames are decoded when asked for.

    Args:
        root: The sequence folder, holding ``img/`` and ``groundtruth_rect.txt``.

    Raises:
        ValueError: Missing folder or file, or a different number of frames and boxes.

    Example (a three-frame sequence written here in the OTB layout):
        >>> frames = [np.full((96, 128, 3), 40 * t, np.uint8) for t in range(3)]
        >>> boxes = np.array([[10, 20, 30, 40], [12, 21, 30, 40], [14, 22, 30, 40]])
        >>> write_otb("OTB/Square", frames, boxes)
        PosixPath('OTB/Square')
        >>> seq = OTBSequence("OTB/Square")
        >>> len(seq), seq.frame(0).shape, seq.boxes[0]
        (3, (96, 128, 3), array([10., 20., 30., 40.]))
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.name = self.root.name
        gt = self.root / GROUNDTRUTH
        if not gt.is_file():
            raise ValueError(
                f"{self.root} is not an OTB sequence: {GROUNDTRUTH} is missing (expected "
                f"{self.root}/img/*.jpg and {self.root}/{GROUNDTRUTH})"
            )
        self.files = image_files(self.root / "img")
        self._boxes = read_boxes(gt)
        if len(self._boxes) != len(self.files):
            raise ValueError(
                f"{self.root}: {len(self.files)} frames in img/ but {len(self._boxes)} boxes in "
                f"{GROUNDTRUTH}; each frame needs one box (cut the sequence to the frames the "
                "boxes cover)"
            )

    @property
    def boxes(self) -> np.ndarray:
        """Ground truth ``(T, 4)``."""
        return self._boxes

    def __len__(self) -> int:
        return len(self.files)

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` as ``(H, W, 3)`` RGB ``uint8`` (grey images are repeated to 3 channels)."""
        with Image.open(self.files[t]) as im:
            return np.asarray(im.convert("RGB"))


def is_otb_sequence(path: str | Path) -> bool:
    """Whether ``path`` is a folder in the OTB layout."""
    p = Path(path)
    return (p / GROUNDTRUTH).is_file() and (p / "img").is_dir()


def load_otb(root: str | Path) -> list[OTBSequence]:
    """Every OTB sequence in ``root`` (or ``root`` itself when it is one), sorted by name.

    Raises:
        ValueError: No sequence found.
    """
    root = Path(root)
    if is_otb_sequence(root):
        return [OTBSequence(root)]
    found = sorted(p for p in root.iterdir() if is_otb_sequence(p)) if root.is_dir() else []
    if not found:
        raise ValueError(
            f"no OTB sequence in {root}: expected SEQUENCE/img/*.jpg and "
            f"SEQUENCE/{GROUNDTRUTH} (one x,y,w,h box per line)"
        )
    return [OTBSequence(p) for p in found]


def write_otb(root: str | Path, frames: list[np.ndarray], boxes: np.ndarray) -> Path:
    """Write a sequence in the OTB layout: ``root/img/0001.jpg ...`` + ``groundtruth_rect.txt``.

    Args:
        root: The sequence folder to create.
        frames: ``T`` RGB ``uint8`` frames ``(H, W, 3)``.
        boxes: ``(T, 4)`` ground truth.

    Returns:
        ``root``.
    """
    root = Path(root)
    boxes = as_boxes(boxes)
    if len(frames) != len(boxes):
        raise ValueError(f"{len(frames)} frames for {len(boxes)} boxes")
    (root / "img").mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(root / "img" / f"{t:04d}.jpg", quality=95)
    write_boxes(root / GROUNDTRUTH, boxes)
    return root
