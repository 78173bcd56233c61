"""Small synthetic inputs for the tracking tests (no data files needed)."""

from __future__ import annotations

import numpy as np

from siamkit.apps.tracking.generator import GeneratorConfig


def blob_objects(n: int = 4, size: int = 20, seed: int = 0) -> np.ndarray:
    """``(n, size, size)`` uint8 grey items: textured discs on black, like Fashion-MNIST."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        r = rng.uniform(0.3, 0.45) * size
        disc = (yy - size / 2 + 0.5) ** 2 + (xx - size / 2 + 0.5) ** 2 <= r**2
        out[i][disc] = rng.integers(120, 256, disc.sum())
    return out


def noise_backgrounds(seed: int = 0) -> list[np.ndarray]:
    """A 3-frame 'video' and a still, both larger than :func:`small_config`'s frame."""
    rng = np.random.default_rng(seed)
    video = rng.integers(0, 90, (3, 80, 110, 3), dtype=np.uint8)
    still = rng.integers(0, 90, (1, 90, 120, 3), dtype=np.uint8)
    return [video, still]


def small_config(**kw: object) -> GeneratorConfig:
    """64x96 frames, 12 frames, items 14-20 px."""
    values: dict[str, object] = dict(
        length=12, frame_height=64, frame_width=96, min_size=14, max_size=20, max_speed=2.0
    )
    values.update(kw)
    return GeneratorConfig(**values)  # type: ignore[arg-type]
