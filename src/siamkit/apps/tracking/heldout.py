"""The held-out comparison: a trained tracker beside two baselines on evaluation sequences.

Evaluation sequences come from the evaluation side of :mod:`~siamkit.apps.tracking.sources`
(Fashion-MNIST *test* items of classes 7-9 over ``tree.avi`` and photographs no training
sequence uses) and a seed of their own. The baselines run in the same call on the same frames:
``stay`` (the first box on every frame) and ``untrained`` (the same network and tracking loop
with randomly initialised weights, so what training adds is visible).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from siamkit.apps.tracking.checkpoint import build_net, load_tracker
from siamkit.apps.tracking.evaluate import TrackerResult, evaluate_trackers
from siamkit.apps.tracking.generator import GeneratedSequence, GeneratorConfig, generate_sequences
from siamkit.apps.tracking.sequence import TrackingSequence
from siamkit.apps.tracking.sources import OPENCV_DATA, fashion_objects, opencv_backgrounds
from siamkit.apps.tracking.tracker import SiamFCTracker, StayTracker, Tracker
from siamkit.data.sources import FASHION_MNIST_DIR

EVAL_SEED = 1_000_003  # never used for training or validation sequences


def evaluation_sequences(
    count: int = 30,
    length: int = 100,
    seed: int = EVAL_SEED,
    fashion_dir: str | Path = FASHION_MNIST_DIR,
    backgrounds_dir: str | Path = OPENCV_DATA,
) -> list[GeneratedSequence]:
    """Held-out generated sequences (evaluation objects and backgrounds only)."""
    gen = GeneratorConfig(length=length)
    backgrounds = opencv_backgrounds("eval", gen.frame_height, gen.frame_width, backgrounds_dir)
    return generate_sequences(
        fashion_objects("eval", fashion_dir), backgrounds, count, seed, gen, "eval"
    )


def compare_trackers(
    run: str | Path,
    sequences: list[TrackingSequence],
    threads: int = 1,
    baselines: bool = True,
) -> list[TrackerResult]:
    """OPE scores and speed of the run's tracker and (by default) the two baselines.

    Example (a run trained for two steps, on two generated sequences; the held-out set is
    ``evaluation_sequences()``, from Fashion-MNIST and opencv-doc's videos):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=2)  # digits over noise, 10 frames
        >>> from siamkit.apps.tracking.training import TrackerTrainConfig, train_tracker
        >>> cfg = TrackerTrainConfig(
        ...     out="runs/tracker", steps=2, batch_size=2, widths=(4, 4, 4, 4), window_grid=(0.176,)
        ... )
        >>> run = train_tracker(cfg, sequences=(seqs[:1], seqs[1:]), log=lambda line: None)
        >>> rows = compare_trackers(run, seqs)
        >>> [(r.name, round(r.ope.auc, 2)) for r in rows]
        [('stay', 0.48), ('untrained', 0.47), ('siamfc', 0.68)]
    """
    torch.set_num_threads(threads)
    loaded = load_tracker(run)
    trackers: dict[str, Callable[[], Tracker]] = {}
    if baselines:
        torch.manual_seed(0)
        widths = tuple(loaded.config.get("network", {}).get("widths", (16, 32, 32, 32)))
        untrained = build_net(
            (widths[0], widths[1], widths[2], widths[3]),
            loaded.net.exemplar_size,
            loaded.net.search_size,
        ).eval()
        trackers["stay"] = StayTracker
        trackers["untrained"] = lambda: SiamFCTracker(untrained, loaded.params)
    trackers["siamfc"] = lambda: SiamFCTracker(loaded.net, loaded.params)
    return evaluate_trackers(sequences, trackers)
