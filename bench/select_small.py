"""Issue 22: does the default recipe, refit included, also serve small data sets? Chosen on
Fashion-MNIST's *training* classes 0-4 only (classes 5-9 are never read).

A few hundred items per class (``--per-class``, default 300, drawn with seed 0 from the train
split's classes 0-4 and written as IDX files, the format the ``fashion-mnist:DIR`` source
reads), all ten ways to train on three classes and score the other two, through the CLI as a
user runs it: ``siamkit train --data fashion-mnist:SUBSET --train-classes A,B,C
--eval-classes D,E [candidate flags] --seed S`` then ``siamkit evaluate RUN --json --split
train`` (the scored classes' items of the subset). Candidates:

- ``default``: the CLI defaults (5 epochs; multi-similarity + uniformity + rotation; refit);
- ``epochs20``: ``--epochs 20`` (the selection run chooses the epoch count up to 20);
- ``contrastive``: ``--loss contrastive --margin 1``;
- ``ms_plain``: ``--uniformity 0 --rotation 0`` (multi-similarity alone);
- ``no_uniformity``, ``no_rotation``: one of the two off (added after the first four ran, to
  tell which part costs on small data).

Rule, written before the runs: a candidate replaces the default only if its mean MAP@R over the
ten folds is higher *and* it is higher on at least 6 of the 10.

    python bench/select_small.py --per-class 300
    python bench/select_small.py --source digits --epochs 10   # digits 0-4 of the train split

``--source digits``: scikit-learn's digits (its train split's digits 0-4, about 180 images
each; 5-9 never read) instead of the Fashion-MNIST subset, with ``--epochs 10`` as `make demo`
trains (``epochs20`` then asks for 20).

One JSON line per (candidate, fold, seed) in bench/results/select-small.jsonl.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_pretrained import write_subset  # the same seed-0 draw of classes 0-4, as IDX files
from select_keep_selection import scores, siamkit

ROOT = Path(__file__).resolve().parent.parent
FMNIST = Path("/usr/share/datasets/fashion-mnist")
CANDIDATES: dict[str, list[str]] = {
    "default": [],
    "epochs20": ["--epochs", "20"],
    "contrastive": ["--loss", "contrastive", "--margin", "1"],
    "ms_plain": ["--uniformity", "0", "--rotation", "0"],
    "no_uniformity": ["--uniformity", "0"],
    "no_rotation": ["--rotation", "0"],
}
TRAINING = (0, 1, 2, 3, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--data-dir", type=Path, default=FMNIST)
    ap.add_argument("--source", choices=["fmnist", "digits"], default="fmnist")
    ap.add_argument("--epochs", type=int, default=None, help="--epochs for every candidate")
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/select-small.jsonl")
    args = ap.parse_args()
    folds = [(t, tuple(c for c in TRAINING if c not in t)) for t in
             itertools.combinations(TRAINING, 3)]  # fmt: skip
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, args.results.open("a") as out:
        subset = Path(tmp) / "subset"
        data = "digits"
        if args.source == "fmnist":
            write_subset(args.data_dir, subset, args.per_class, with_test=False)
            data = f"fashion-mnist:{subset}"
        epochs = [] if args.epochs is None else ["--epochs", str(args.epochs)]
        for seed, (trained, scored), name in itertools.product(args.seeds, folds, args.candidates):
            t, s = ",".join(map(str, trained)), ",".join(map(str, scored))
            run = f"{tmp}/{name}-{t}-{seed}"
            started = time.perf_counter()
            siamkit(["train", "--data", data, "--train-classes", t, "--eval-classes", s,
                     *epochs, *CANDIDATES[name], "--seed", str(seed), "--out", run,
                     "--no-progress"])  # fmt: skip
            per_class = args.per_class if args.source == "fmnist" else None
            row = {"candidate": name, "source": args.source, "per_class": per_class,
                   "epochs": args.epochs, "fold": f"{t}/{s}", "seed": seed,
                   "train_s": time.perf_counter() - started,
                   **scores(run, s, "train", "best")}  # fmt: skip
            rows.append(row)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    base = {(r["fold"], r["seed"]): r["map_at_r"] for r in rows if r["candidate"] == "default"}
    print("| candidate | mean MAP@R | mean P@1 | folds above default |")
    print("|---|---|---|---|")
    for name in args.candidates:
        mine = [r for r in rows if r["candidate"] == name]
        above = sum(r["map_at_r"] > base.get((r["fold"], r["seed"]), np.inf) for r in mine)
        print(f"| {name} | {np.mean([r['map_at_r'] for r in mine]):.3f} | "
              f"{np.mean([r['p_at_1'] for r in mine]):.3f} | {above}/{len(mine)} |")  # fmt: skip


if __name__ == "__main__":
    main()
