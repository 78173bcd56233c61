"""The SiamFC tracking loop: exemplar features once, then per frame a scale pyramid of search
crops, a cosine window against large jumps, and a damped scale update.

Bertinetto et al., "Fully-Convolutional Siamese Networks for Object Tracking", ECCV-W 2016,
section 2.4; the default hyper-parameters are the paper's (3 scales ``1.0375^{-1,0,1}``, scale
penalty 0.9745, scale learning rate 0.59, window influence 0.176, response upsampled 16x at
stride 8; here 8x at stride 4, the same half-pixel resolution in the search crop).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from siamkit.apps.tracking.boxes import as_boxes
from siamkit.apps.tracking.crops import context_size, crop, to_tensor
from siamkit.apps.tracking.network import SiamFC


class TrackerParams(BaseModel):
    """SiamFC's online hyper-parameters."""

    model_config = ConfigDict(extra="forbid")

    context: float = Field(0.5, ge=0.0)  # exemplar margin: p = context * (w + h) / 2 per side
    num_scales: int = Field(3, ge=1)  # odd number of search scales
    scale_step: float = Field(1.0375, ge=1.0)  # ratio between neighbouring scales
    scale_penalty: float = Field(0.9745, gt=0.0, le=1.0)  # multiplies non-unit scale peaks
    scale_lr: float = Field(0.59, ge=0.0, le=1.0)  # damping of the size update
    window_influence: float = Field(0.176, ge=0.0, le=1.0)  # cosine window weight
    upsample: int = Field(8, ge=1)  # response map upsampling factor (bicubic)
    min_size: float = Field(0.2, gt=0.0)  # box size kept within [min, max] x the initial size
    max_size: float = Field(5.0, gt=0.0)


class Tracker(Protocol):
    """Anything that follows one target from a first box."""

    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Start on ``frame`` ``(H, W, 3)`` uint8 with ``box`` ``(4,)`` x, y, w, h."""
        ...

    def update(self, frame: np.ndarray) -> np.ndarray:
        """The box ``(4,)`` on the next frame."""
        ...


class StayTracker:
    """The trivial baseline: the first box, on every frame."""

    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Remember the box."""
        self.box = as_boxes(box)[0]

    def update(self, frame: np.ndarray) -> np.ndarray:
        """The first box again."""
        return self.box.copy()


class SiamFCTracker:
    """Track with a trained :class:`SiamFC` network.

    Args:
        net: The network (put in eval mode here; its BatchNorm uses running statistics).
        params: Online hyper-parameters; default :class:`TrackerParams`.

    Example (an untrained network, on a generated sequence; a trained one comes from
    ``load_tracker("runs/tracker").net``):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=1)  # digits over noise, 10 frames
        >>> frames = [seqs[0].frame(t) for t in range(2)]
        >>> tracker = SiamFCTracker(SiamFC())
        >>> tracker.init(frames[0], seqs[0].boxes[0])
        >>> box = tracker.update(frames[1])
        >>> box.shape
        (4,)
    """

    def __init__(self, net: SiamFC, params: TrackerParams | None = None) -> None:
        self.net = net.eval()
        self.p = params or TrackerParams()
        n = self.p.num_scales
        self.scales = self.p.scale_step ** (np.arange(n) - (n - 1) / 2)  # (S,)
        up = net.response_size * self.p.upsample
        hann = torch.hann_window(up + 2, periodic=False)[1:-1]  # no zero at the edges
        window = torch.outer(hann, hann)
        self.window = window / window.sum()  # (up, up)

    @torch.no_grad()
    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Cache the exemplar's features from the first frame and its box."""
        x, y, w, h = as_boxes(box)[0]
        self.centre = np.array([x + w / 2, y + h / 2])
        self.size = np.array([w, h], float)
        self.first_size = self.size.copy()
        image = to_tensor(frame)
        self.fill = image.mean(dim=(1, 2))
        self.z_size = context_size(w, h, self.p.context)
        z = crop(
            image,
            (self.centre[0], self.centre[1]),
            [self.z_size],
            self.net.exemplar_size,
            self.fill,
        )
        self.z_features = self.net.embed(z)  # (1, C, hz, wz)

    @torch.no_grad()
    def update(self, frame: np.ndarray) -> np.ndarray:
        """Locate the target in ``frame``; returns the box ``(4,)``."""
        net, p = self.net, self.p
        image = to_tensor(frame)
        x_size = self.z_size * net.search_size / net.exemplar_size
        sizes = [x_size * s for s in self.scales]
        x = crop(image, (self.centre[0], self.centre[1]), sizes, net.search_size, self.fill)
        responses = net.respond(self.z_features, net.embed(x))  # (S, 1, r, r)
        r = net.response_size
        up = r * p.upsample
        maps = F.interpolate(responses, size=(up, up), mode="bicubic", align_corners=True)[:, 0]
        peaks = maps.flatten(1).max(dim=1).values  # (S,)
        mid = (p.num_scales - 1) // 2
        penalty = torch.full_like(peaks, p.scale_penalty)
        penalty[mid] = 1.0
        k = int(torch.argmax(peaks * penalty))
        m = maps[k] - maps[k].min()
        m = m / m.sum().clamp(min=1e-12)
        m = (1 - p.window_influence) * m + p.window_influence * self.window
        row, col = divmod(int(torch.argmax(m)), up)
        # upsampled index -> response cell (align_corners) -> search-crop pixels -> frame pixels
        cell = np.array([col, row], float) * (r - 1) / (up - 1) - (r - 1) / 2
        shift = cell * net.stride * sizes[k] / net.search_size
        self.centre = self.centre + shift
        self.centre = np.clip(self.centre, 0, [frame.shape[1], frame.shape[0]])
        factor = (1 - p.scale_lr) + p.scale_lr * float(self.scales[k])
        new_size = np.clip(
            self.size * factor, self.first_size * p.min_size, self.first_size * p.max_size
        )
        self.z_size *= float(new_size[0] / self.size[0])
        self.size = new_size
        return np.array([*(self.centre - self.size / 2), *self.size])


def run_tracker(
    tracker: Tracker, frames: Iterable[np.ndarray], first_box: np.ndarray
) -> np.ndarray:
    """Run one-pass: init on the first frame with ``first_box``, update on the rest.

    Args:
        tracker: The tracker.
        frames: An iterable of ``(H, W, 3)`` uint8 frames.
        first_box: ``(4,)`` the target's box on the first frame.

    Returns:
        ``(T, 4)`` boxes, the first one ``first_box`` (as OTB scores it).
    """
    boxes = []
    for t, frame in enumerate(frames):
        if t == 0:
            tracker.init(frame, first_box)
            boxes.append(as_boxes(first_box)[0])
        else:
            boxes.append(tracker.update(frame))
    return np.stack(boxes)
