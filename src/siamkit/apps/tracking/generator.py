"""Tracking sequences with exact ground truth: items moving, scaling and partly occluded over
real textured backgrounds.

Each sequence renders one *target* item (a grey image such as a Fashion-MNIST item, tinted a
random colour, its intensity giving both texture and transparency) that moves with a smooth
random velocity, bounces off the frame edges and grows and shrinks; 0-2 *distractor* items move
beneath it, and an opaque textured *occluder* may pass over it for a while. The background is a
window panning over a video (its frames advance with the sequence) or a still image. The
ground-truth box is the tight box of the target's visible-when-unoccluded pixels (the OTB
convention: an occluded target keeps its full box), so the box is exact by construction.

Frames are rendered on demand from a few numbers per frame, so thousands of sequences cost
almost no memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ALPHA_GAIN = 3.0  # item intensity -> opacity (faint edges are partly transparent)
ALPHA_MIN = 0.05  # opacity below this is cut to 0, so the box is tight and exact


@dataclass(frozen=True)
class GeneratorConfig:
    """How sequences are drawn (sizes in pixels)."""

    length: int = 60  # frames per sequence
    frame_height: int = 144
    frame_width: int = 192
    min_size: int = 22  # target's longer side at scale 1, drawn uniformly in [min, max]
    max_size: int = 44
    max_aspect: float = 1.5  # width/height stretch drawn log-uniformly in [1/a, a]
    max_speed: float = 3.0  # pixels per frame
    max_scale_change: float = 0.3  # scale = exp(A sin(...)), A uniform in [0, this]
    occlusion_probability: float = 0.5  # chance a sequence has an occluder passing over
    max_distractors: int = 2  # other items moving beneath the target
    pan_speed: float = 1.0  # background window drift, pixels per frame at most


@dataclass(frozen=True)
class Item:
    """One moving item: its grey image, colour and per-frame centre and scale."""

    image: np.ndarray  # (h, w) float32 intensity in [0, 1] (the source, e.g. 28x28)
    height: float  # size at scale 1
    width: float
    tint: np.ndarray  # (3,) RGB colour in [0, 1]
    centres: np.ndarray  # (T, 2) cx, cy
    scales: np.ndarray  # (T,)


@dataclass(frozen=True)
class Occluder:
    """An opaque textured rectangle shown on frames ``start .. stop - 1``."""

    texture: np.ndarray  # (h, w, 3) uint8
    start: int
    stop: int
    corners: np.ndarray  # (T, 2) top-left x, y (used on its frames only)


def _patch(item: Item, t: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The item's opacity ``(h, w)``, colour ``(h, w, 3)`` and top-left corner on frame t."""
    h = max(2, round(item.height * item.scales[t]))
    w = max(2, round(item.width * item.scales[t]))
    grey = np.asarray(
        Image.fromarray(item.image, mode="F").resize((w, h), Image.Resampling.BILINEAR)
    )
    grey = np.clip(grey, 0.0, 1.0)
    alpha = np.clip(grey * ALPHA_GAIN, 0.0, 1.0)
    alpha[alpha < ALPHA_MIN] = 0.0
    colour = item.tint[None, None, :] * (0.35 + 0.65 * grey[:, :, None])
    x0 = round(float(item.centres[t, 0]) - w / 2)
    y0 = round(float(item.centres[t, 1]) - h / 2)
    return alpha, colour, x0, y0


def item_box(item: Item, t: int) -> np.ndarray:
    """The tight box ``(4,)`` of the item's opaque pixels on frame ``t``."""
    alpha, _, x0, y0 = _patch(item, t)
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if len(rows) == 0:
        raise ValueError("an item image with no pixel above the opacity cut-off cannot be tracked")
    return np.array(
        [x0 + cols[0], y0 + rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1], float
    )


def _paste(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-composite a patch onto ``canvas`` (float32 ``(H, W, 3)`` in [0, 255]) in place."""
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if xa >= xb or ya >= yb:
        return
    a = alpha[ya - y0 : yb - y0, xa - x0 : xb - x0, None]
    c = colour[ya - y0 : yb - y0, xa - x0 : xb - x0] * 255.0
    region = canvas[ya:yb, xa:xb]
    canvas[ya:yb, xa:xb] = np.where(a > 0, a * c + (1.0 - a) * region, region)


class GeneratedSequence:
    """A rendered-on-demand sequence (see the module docstring); a :class:`TrackingSequence`.

    Example (digits as the items, over a still of random noise):
        >>> from sklearn.datasets import load_digits
        >>> objects = (load_digits().images[:10] * 15).astype(np.uint8)  # (10, 8, 8) grey items
        >>> backgrounds = [np.random.default_rng(0).integers(0, 256, (1, 160, 200, 3), np.uint8)]
        >>> seq = generate_sequences(objects, backgrounds, count=1, seed=0)[0]
        >>> seq.frame(0).shape, seq.boxes.shape
        ((144, 192, 3), (60, 4))
    """

    def __init__(
        self,
        name: str,
        background: np.ndarray,
        background_frames: np.ndarray,
        origins: np.ndarray,
        frame_size: tuple[int, int],
        target: Item,
        distractors: list[Item],
        occluder: Occluder | None,
    ) -> None:
        self.name = name
        self._background = background  # (F, Hb, Wb, 3) uint8
        self._background_frames = background_frames  # (T,) index into F
        self._origins = origins  # (T, 2) window top-left x, y
        self.frame_size = frame_size  # (H, W)
        self.target = target
        self.distractors = distractors
        self.occluder = occluder
        self._boxes = np.stack([item_box(target, t) for t in range(len(origins))])

    @property
    def boxes(self) -> np.ndarray:
        """Ground truth ``(T, 4)``: the target's tight box, occluded or not."""
        return self._boxes

    def __len__(self) -> int:
        return len(self._origins)

    def background(self, t: int) -> np.ndarray:
        """Frame ``t``'s background alone, ``(H, W, 3)`` uint8."""
        H, W = self.frame_size
        x, y = (int(v) for v in self._origins[t])
        return self._background[self._background_frames[t], y : y + H, x : x + W]

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t``: background, distractors, target, occluder; ``(H, W, 3)`` RGB uint8."""
        canvas = self.background(t).astype(np.float32)
        for item in [*self.distractors, self.target]:
            _paste(canvas, *_patch(item, t))
        occ = self.occluder
        if occ is not None and occ.start <= t < occ.stop:
            h, w = occ.texture.shape[:2]
            x0, y0 = (int(v) for v in occ.corners[t])
            _paste(canvas, np.ones((h, w), np.float32), occ.texture / 255.0, x0, y0)
        return np.round(canvas).astype(np.uint8)

    def occluded_fraction(self, t: int) -> float:
        """Share of the target box covered by the occluder on frame ``t``."""
        occ = self.occluder
        if occ is None or not occ.start <= t < occ.stop:
            return 0.0
        x, y, w, h = self._boxes[t]
        ox, oy = occ.corners[t]
        oh, ow = occ.texture.shape[:2]
        ix = max(0.0, min(x + w, ox + ow) - max(x, ox))
        iy = max(0.0, min(y + h, oy + oh) - max(y, oy))
        return float(ix * iy / (w * h))


def _trajectory(
    rng: np.random.Generator, T: int, half: np.ndarray, size: np.ndarray, max_speed: float
) -> np.ndarray:
    """Centres ``(T, 2)`` of a smooth random walk that bounces inside ``[half, size - half]``."""
    lo, hi = half + 1.0, size - half - 1.0
    hi = np.maximum(hi, lo)
    pos = rng.uniform(lo, hi)
    angle = rng.uniform(0, 2 * np.pi)
    vel = rng.uniform(0.3, 1.0) * max_speed * np.array([np.cos(angle), np.sin(angle)])
    out = np.empty((T, 2))
    for t in range(T):
        out[t] = pos
        vel = vel + rng.normal(0.0, 0.15 * max_speed, 2)
        speed = np.linalg.norm(vel)
        if speed > max_speed:
            vel *= max_speed / speed
        pos = pos + vel
        for d in range(2):
            if pos[d] < lo[d]:
                pos[d], vel[d] = 2 * lo[d] - pos[d], -vel[d]
            if pos[d] > hi[d]:
                pos[d], vel[d] = 2 * hi[d] - pos[d], -vel[d]
            pos[d] = np.clip(pos[d], lo[d], hi[d])
    return out


def _item(rng: np.random.Generator, image: np.ndarray, cfg: GeneratorConfig, speed: float) -> Item:
    T = cfg.length
    side = rng.uniform(cfg.min_size, cfg.max_size)
    aspect = float(np.exp(rng.uniform(-1, 1) * np.log(cfg.max_aspect)))  # width / height
    height, width = (side, side * aspect) if aspect <= 1 else (side / aspect, side)
    amplitude = rng.uniform(0, cfg.max_scale_change)
    period = rng.uniform(T / 2, 2 * T)
    phase = rng.uniform(0, 2 * np.pi)
    scales = np.exp(amplitude * np.sin(2 * np.pi * np.arange(T) / period + phase))
    biggest = np.array([width, height]) * scales.max()
    size = np.array([cfg.frame_width, cfg.frame_height], float)
    centres = _trajectory(rng, T, biggest / 2, size, speed)
    tint = rng.uniform(0.25, 1.0, 3)
    tint[rng.integers(3)] = 1.0  # one saturated channel: the item stays visible
    return Item(image.astype(np.float32) / 255.0, height, width, tint, centres, scales)


def _occluder(
    rng: np.random.Generator, target: Item, texture_from: np.ndarray, cfg: GeneratorConfig
) -> Occluder:
    T = cfg.length
    side = rng.uniform(0.5, 0.9) * max(target.height, target.width)
    h = max(4, round(side * rng.uniform(0.6, 1.0)))
    w = max(4, round(side * rng.uniform(0.6, 1.0)))
    f = rng.integers(len(texture_from))
    Hb, Wb = texture_from.shape[1:3]
    y, x = rng.integers(0, Hb - h + 1), rng.integers(0, Wb - w + 1)
    texture = texture_from[f, y : y + h, x : x + w].copy()
    duration = int(rng.integers(max(2, T // 6), max(3, T // 3) + 1))
    start = int(rng.integers(1, max(2, T - duration)))
    stop = min(T, start + duration)
    # it crosses the target from one side to the other, at a random height
    angle = rng.uniform(0, 2 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    reach = (target.width + target.height) / 2 + side / 2
    corners = np.zeros((T, 2))
    for t in range(start, stop):
        u = (t - start) / max(1, stop - start - 1)
        centre = target.centres[t] + direction * reach * (2 * u - 1) * 0.6
        corners[t] = np.round(centre - np.array([w, h]) / 2)
    return Occluder(texture, start, stop, corners)


def generate_sequence(
    name: str,
    objects: np.ndarray,
    backgrounds: list[np.ndarray],
    rng: np.random.Generator,
    config: GeneratorConfig | None = None,
) -> GeneratedSequence:
    """Draw one sequence.

    Args:
        name: The sequence's name.
        objects: ``(N, h, w)`` uint8 grey item images on a black ground (e.g. Fashion-MNIST).
        backgrounds: Videos or stills ``(F, Hb, Wb, 3)`` uint8, each at least the frame size.
        rng: The random generator (the sequence is a function of its state).
        config: Sizes, speeds and probabilities; default :class:`GeneratorConfig`.

    Raises:
        ValueError: No objects, no backgrounds, or a background smaller than the frame.
    """
    cfg = config or GeneratorConfig()
    T, H, W = cfg.length, cfg.frame_height, cfg.frame_width
    if len(objects) == 0 or not backgrounds:
        raise ValueError("generating sequences needs at least one object and one background")
    b = int(rng.integers(len(backgrounds)))
    background = backgrounds[b]
    F, Hb, Wb = background.shape[:3]
    if Hb < H or Wb < W:
        raise ValueError(
            f"background {b} is {Wb}x{Hb}, smaller than the {W}x{H} frame; load backgrounds "
            "at least as large as GeneratorConfig's frame"
        )
    start = int(rng.integers(F))
    # a video plays forward then backward (ping-pong) when it is shorter than the sequence
    steps = start + np.arange(T)
    period = max(1, 2 * (F - 1))
    phase = steps % period
    background_frames = np.where(phase < F, phase, period - phase) if F > 1 else np.zeros(T, int)
    origin = np.array([rng.uniform(0, Wb - W), rng.uniform(0, Hb - H)])
    drift = rng.uniform(-1, 1, 2) * cfg.pan_speed
    limits = np.array([Wb - W, Hb - H], float)
    origins = np.round(np.clip(origin + drift * np.arange(T)[:, None], 0, limits)).astype(int)

    target = _item(rng, objects[rng.integers(len(objects))], cfg, cfg.max_speed)
    n_distractors = int(rng.integers(0, cfg.max_distractors + 1))
    distractors = [
        _item(rng, objects[rng.integers(len(objects))], cfg, cfg.max_speed)
        for _ in range(n_distractors)
    ]
    occluder = None
    if rng.random() < cfg.occlusion_probability:
        other = backgrounds[int(rng.integers(len(backgrounds)))]
        occluder = _occluder(rng, target, other, cfg)
    return GeneratedSequence(
        name, background, background_frames, origins, (H, W), target, distractors, occluder
    )


def generate_sequences(
    objects: np.ndarray,
    backgrounds: list[np.ndarray],
    count: int,
    seed: int,
    config: GeneratorConfig | None = None,
    prefix: str = "seq",
) -> list[GeneratedSequence]:
    """Draw ``count`` sequences; sequence ``i`` depends only on ``(seed, i)`` and the inputs.

    Example (digits as the items, over a still of random noise):
        >>> from sklearn.datasets import load_digits
        >>> items = (load_digits().images[:10] * 15).astype(np.uint8)  # (10, 8, 8) grey items
        >>> stills = [np.random.default_rng(0).integers(0, 256, (1, 160, 200, 3), np.uint8)]
        >>> seqs = generate_sequences(items, stills, count=10, seed=0)
        >>> [s.name for s in seqs[:2]]
        ['seq-0000', 'seq-0001']
        >>> seqs[0].boxes[0]  # x, y, w, h on the first frame
        array([123.,   8.,  29.,  35.])
    """
    return [
        generate_sequence(
            f"{prefix}-{i:04d}", objects, backgrounds, np.random.default_rng([seed, i]), config
        )
        for i in range(count)
    ]


def digit_sequences(count: int, length: int = 10, seed: int = 0) -> list[GeneratedSequence]:
    """``count`` small sequences to try a tracker on without any data: scikit-learn's first ten
    8x8 digits (grey) as the items, over one 160x200 still of random noise, ``length`` frames of
    144x192 each (:func:`generate_sequences` with :class:`GeneratorConfig` defaults otherwise).

    Example:
        >>> seqs = digit_sequences(count=2)
        >>> [s.name for s in seqs], len(seqs[0].boxes)
        (['seq-0000', 'seq-0001'], 10)
    """
    from sklearn.datasets import load_digits

    items = (load_digits().images[:10] * 15).astype(np.uint8)  # (10, 8, 8) grey items
    stills = [np.random.default_rng(0).integers(0, 256, (1, 160, 200, 3), np.uint8)]
    return generate_sequences(items, stills, count, seed, GeneratorConfig(length=length))
