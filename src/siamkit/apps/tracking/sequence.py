"""What a tracker is run on: frames (RGB ``uint8``) with one ground-truth box per frame."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class TrackingSequence(Protocol):
    """A sequence of frames, each ``(H, W, 3)`` RGB ``uint8``, with ground-truth boxes.

    Implemented by :class:`~siamkit.apps.tracking.otb.OTBSequence` (files on disk) and
    :class:`~siamkit.apps.tracking.generator.GeneratedSequence` (rendered on demand).
    """

    name: str

    @property
    def boxes(self) -> np.ndarray:
        """Ground truth ``(T, 4)`` as ``x, y, w, h``."""
        ...

    def __len__(self) -> int:
        """Number of frames ``T``."""
        ...

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` as ``(H, W, 3)`` RGB ``uint8``."""
        ...
