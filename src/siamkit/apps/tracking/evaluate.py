"""One-pass evaluation of several trackers on the same sequences, with their speed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from siamkit.apps.tracking.metrics import OPEResult, score_ope
from siamkit.apps.tracking.sequence import TrackingSequence
from siamkit.apps.tracking.tracker import Tracker


class TrackerResult(NamedTuple):
    """A tracker's OPE scores and speed over a set of sequences."""

    name: str
    ope: OPEResult
    fps: float  # frames per second of ``update`` calls (rendering/decoding excluded)
    frames: int  # frames tracked (first frames excluded)
    boxes: list[np.ndarray]  # (T, 4) per sequence


def evaluate_trackers(
    sequences: Sequence[TrackingSequence],
    trackers: dict[str, Callable[[], Tracker]],
) -> list[TrackerResult]:
    """Run every tracker once over every sequence (started from the first ground-truth box).

    Each sequence's frames are decoded once and shared by the trackers, so their timings count
    only their own work.

    Args:
        sequences: The sequences.
        trackers: Names -> factories making a fresh tracker per sequence.

    Returns:
        One :class:`TrackerResult` per tracker, in the order given.

    Example (two generated sequences: digits moving over random noise):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=2)  # digits over noise, 10 frames
        >>> from siamkit.apps.tracking.tracker import StayTracker
        >>> rows = evaluate_trackers(seqs, {"stay": StayTracker})
        >>> rows[0].name, rows[0].frames, round(rows[0].ope.auc, 3)
        ('stay', 18, 0.483)
    """
    boxes: dict[str, list[np.ndarray]] = {n: [] for n in trackers}
    seconds = dict.fromkeys(trackers, 0.0)
    frames = 0
    for seq in sequences:
        images = [seq.frame(t) for t in range(len(seq))]
        frames += len(images) - 1
        for name, make in trackers.items():
            tracker = make()
            tracker.init(images[0], seq.boxes[0])
            out = [np.asarray(seq.boxes[0], float)]
            start = time.perf_counter()
            for image in images[1:]:
                out.append(tracker.update(image))
            seconds[name] += time.perf_counter() - start
            boxes[name].append(np.stack(out))
    truth = [s.boxes for s in sequences]
    return [
        TrackerResult(
            name,
            score_ope(boxes[name], truth),
            frames / seconds[name] if seconds[name] > 0 else float("inf"),
            frames,
            boxes[name],
        )
        for name in trackers
    ]
