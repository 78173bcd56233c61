"""Issue 22 development experiment: does the default operating point's FAR hold on unseen classes,
and would folds over held-out class pairs make it hold? On scikit-learn's digits (train 0-4,
unseen 5-9), a development set: no reported figure comes from it, and fmnist's evaluation
classes are not read.

For each seed: the default run (``siamkit train --data digits --seed S``: a selection run holding
out classes 3 and 4, the operating point for FAR 0.05 fitted on their pairs, a refit on 0-4),
then five selection models, each holding out another class pair of 0-4 (``val_classes``); each
fold's threshold for FAR 0.05 on its held-out pair is carried to the refit model's scale
(``siamkit.training.operating_point.match_scale``, as the default does). Printed: the FAR on
digits 5-9 at each fold's threshold, at the threshold of the pooled folds' pairs, and at the
median of the folds' thresholds.

    python bench/operating_point_folds.py --seeds 0 1 2 3 4     # about 3 minutes on 2 cores

Results: one JSON line per seed in bench/results/operating-point-folds.jsonl (``--results``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from siamkit.data import load_data, parse_classes
from siamkit.data.labelled import LabelledData
from siamkit.evaluation.calibrated_run import pair_distances
from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork
from siamkit.run.checkpoint import load_run
from siamkit.run.config import TrainConfig, source_options
from siamkit.training import train
from siamkit.training.operating_point import match_scale

ROOT = Path(__file__).resolve().parents[1]
FOLDS = ("3,4", "0,1", "1,2", "2,3", "0,4")  # the first is the default's held-out pair
TARGET = 0.05


def threshold_for(same: np.ndarray, d: np.ndarray, far: float) -> float:
    impostor = np.sort(d[same == 0])
    return float(impostor[int(far * len(impostor))])


def far_at(same: np.ndarray, d: np.ndarray, threshold: float) -> float:
    return float((d[same == 0] <= threshold).mean())


class DefaultRun(NamedTuple):
    """A default digits run and what both experiments read from it."""

    final: SiameseNetwork  # the refit model
    train_part: LabelledData  # digits' train split, every class
    unseen: LabelledData  # digits 5-9 of the test split
    same: np.ndarray  # (20,000,) 1 = same, for balanced pairs of ``unseen``
    dist: np.ndarray  # the refit model's distances on those pairs


def default_run(seed: int, run_dir: Path) -> DefaultRun:
    """``siamkit train --data digits --seed SEED`` (the CLI defaults) into ``run_dir``."""
    subprocess.run(
        [sys.executable, "-m", "siamkit", "train", "--data", "digits", "--seed", str(seed),
         "--out", str(run_dir), "--no-progress", "--overwrite"],
        check=True, capture_output=True,
    )  # fmt: skip
    run = load_run(run_dir)
    final, config = run.model, run.config
    train_part = load_data("digits", source_options(config), split="train")
    test_part = load_data("digits", source_options(config), split="test")
    unseen = test_part.of_classes(parse_classes("5-9", test_part.class_names))
    same, dist = pair_distances(embed_all(final, unseen.x), unseen.y, 20000, 123, final.distance)
    return DefaultRun(final, train_part, unseen, same, dist)


def one_seed(seed: int, work: Path) -> dict[str, object]:
    final, train_part, _, s_ev, d_ev = default_run(seed, work / f"default-s{seed}")
    thresholds, carried_all, same_all = [], [], []
    for fold in FOLDS:
        out = work / f"fold-s{seed}-{fold.replace(',', '')}"
        fold_config = TrainConfig(data="digits", train_classes="0-4", eval_classes="5-9",
                                  val_classes=fold, refit=False, seed=seed, out=str(out))  # fmt: skip
        train(fold_config, progress=False, overwrite=True)
        selection = load_run(out).model
        held = train_part.of_classes(parse_classes(fold, train_part.class_names))
        seen = train_part.of_classes([c for c in range(5) if str(c) not in fold.split(",")])
        same, d = pair_distances(embed_all(selection, held.x), held.y, 20000, seed,
                                 selection.distance)  # fmt: skip
        s2, before = pair_distances(embed_all(selection, seen.x), seen.y, 20000, seed,
                                    selection.distance)  # fmt: skip
        _, after = pair_distances(embed_all(final, seen.x), seen.y, 20000, seed, final.distance)
        carried = match_scale(d, before[s2 == 0], after[s2 == 0])
        thresholds.append(threshold_for(same, carried, TARGET))
        carried_all.append(carried)
        same_all.append(same)
    pooled = threshold_for(np.concatenate(same_all), np.concatenate(carried_all), TARGET)
    return {
        "seed": seed,
        "target_far": TARGET,
        "folds": list(FOLDS),
        "far_per_fold": [far_at(s_ev, d_ev, t) for t in thresholds],
        "far_pooled": far_at(s_ev, d_ev, pooled),
        "far_median_threshold": far_at(s_ev, d_ev, float(np.median(thresholds))),
    }


def seed_rows(
    one: Callable[[int, Path], dict[str, object]],
    default_results: Path,
    argv: list[str] | None,
    doc: str | None = __doc__,
) -> list[dict[str, object]]:
    """Parse ``--seeds``/``--results`` (``doc``: the script's help), run ``one(seed, tmp)`` for
    each (one thread), print and write the rows (one JSON line each); shared with
    operating_point_mixed.py."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--results", type=Path, default=default_results)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="op-point-") as tmp:
        for seed in args.seeds:
            row = one(seed, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def main(argv: list[str] | None = None) -> None:
    rows = seed_rows(one_seed, ROOT / "bench/results/operating-point-folds.jsonl", argv)
    print("| seed | FAR, default (fold 3,4) | FAR per fold | pooled | median threshold |")
    print("|---|---|---|---|---|")
    for r in rows:
        per = ", ".join(f"{x:.3f}" for x in r["far_per_fold"])  # type: ignore[attr-defined]
        print(f"| {r['seed']} | {r['far_per_fold'][0]:.3f} | {per} | "  # type: ignore[index]
              f"{r['far_pooled']:.3f} | {r['far_median_threshold']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
