"""Where generated sequences get their objects and backgrounds, and how they are split.

Objects are Fashion-MNIST items (read with :func:`siamkit.data.idx.read_idx`); backgrounds are
the sample videos and photographs of Debian's ``opencv-doc`` package
(``/usr/share/doc/opencv-doc/examples/data``). The split keeps evaluation apart from training
on both axes:

============  ===========================================  ======================================
side          objects                                      backgrounds
============  ===========================================  ======================================
train         Fashion-MNIST *train* file, classes 0-6,     ``Megamind.avi``, ``Megamind_bugy.avi``
              first 90% of each class                      + :data:`TRAIN_STILLS`
validation    the same classes, last 10% (never trained)   the training backgrounds
evaluation    Fashion-MNIST *test* file, classes 7-9       ``tree.avi`` + :data:`EVAL_STILLS`
============  ===========================================  ======================================

``vtest.avi`` is in neither: it is the demonstration video of ``siamkit track``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from siamkit.apps.tracking.video import read_video
from siamkit.data.idx import read_idx
from siamkit.data.sources import FASHION_MNIST_DIR

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
TRAIN_VIDEOS = ("Megamind.avi", "Megamind_bugy.avi")
EVAL_VIDEOS = ("tree.avi",)
TRAIN_STILLS = (
    "baboon.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg", "starry_night.jpg",
    "board.jpg", "aero3.jpg", "leuvenA.jpg", "messi5.jpg", "squirrel_cls.jpg", "graf1.png",
    "smarties.png", "stuff.jpg", "left.jpg", "aloeL.jpg", "licenseplate_motion.jpg",
    "orange.jpg", "ela_original.jpg",
)  # fmt: skip
EVAL_STILLS = ("chicky_512.png", "basketball1.png", "box_in_scene.png", "rubberwhale1.png")
TRAIN_CLASSES = tuple(range(7))
EVAL_CLASSES = (7, 8, 9)
VAL_SHARE = 0.1

Side = Literal["train", "val", "eval"]


def fashion_objects(side: Side, root: str | Path = FASHION_MNIST_DIR) -> np.ndarray:
    """Fashion-MNIST items of one side of the split, ``(N, 28, 28)`` uint8.

    Raises:
        ValueError: The IDX files are missing; the message says how to install them.
    """
    root = Path(root)
    prefix = "t10k" if side == "eval" else "train"
    images_path = root / f"{prefix}-images-idx3-ubyte.gz"
    if not images_path.is_file():
        raise ValueError(
            f"Fashion-MNIST not found at {images_path}: 'apt-get install dataset-fashion-mnist' "
            "or pass the folder holding the *-idx3-ubyte.gz files"
        )
    images = read_idx(images_path)
    labels = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz")
    if side == "eval":
        return images[np.isin(labels, EVAL_CLASSES)]
    picked = []
    for c in TRAIN_CLASSES:
        idx = np.flatnonzero(labels == c)
        cut = int(round(len(idx) * (1 - VAL_SHARE)))
        picked.append(idx[:cut] if side == "train" else idx[cut:])
    return images[np.sort(np.concatenate(picked))]


def load_background(path: str | Path, height: int, width: int, max_frames: int = 300) -> np.ndarray:
    """A video (OpenCV) or still image (Pillow) as ``(F, Hb, Wb, 3)`` RGB uint8, resized so it
    is about 4/3 of the frame size each way (windows can pan over it).

    Raises:
        ValueError: The file cannot be read.
        ImportError: A video without OpenCV installed (the message names the extra).
    """
    path = Path(path)
    if path.suffix.lower() in (".avi", ".mp4", ".mov", ".mkv"):
        frames = read_video(path, max_frames=max_frames)
    else:
        try:
            with Image.open(path) as im:
                frames = np.asarray(im.convert("RGB"))[None]
        except OSError as e:
            raise ValueError(f"cannot read background image {path}: {e}") from None
    h, w = frames.shape[1:3]
    scale = max(4 / 3 * height / h, 4 / 3 * width / w)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    return np.stack(
        [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BILINEAR)) for f in frames]
    )


def opencv_backgrounds(
    side: Side, height: int, width: int, root: str | Path = OPENCV_DATA, max_frames: int = 300
) -> list[np.ndarray]:
    """The backgrounds of one side of the split (validation uses the training ones).

    Raises:
        ValueError: ``opencv-doc`` is not installed (none of the files is found).
    """
    root = Path(root)
    names = (*EVAL_VIDEOS, *EVAL_STILLS) if side == "eval" else (*TRAIN_VIDEOS, *TRAIN_STILLS)
    found = [root / n for n in names if (root / n).is_file()]
    if not found:
        raise ValueError(
            f"no background files in {root}: install Debian's opencv-doc "
            "('apt-get install opencv-doc') or pass the folder holding its sample data"
        )
    return [load_background(p, height, width, max_frames) for p in found]
