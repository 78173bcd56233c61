"""Issue 22 development experiment: how many training classes should the selection run hold out
whole, when the data has many classes? The default held out the last two, so the operating
point (threshold for ``--target-far``) was fitted on impostor pairs of a single class pair.

On the glyph set's *background* scripts only (``siamkit glyphs render --out GLYPHS --size 32
--seed 0``; the evaluation scripts are not read): train on the first 21 scripts (classes
0-807), treat the last 8 (808-1106, 299 letters) as the unseen classes. Two variants, each
through the CLI with the refit (``siamkit train`` then ``siamkit evaluate RUN --json``):

- ``last2``: the selection run holds out the last two training classes (two Sinhala letters);
- ``share20``: it holds out the last 20% of the training classes (646-807, 162 letters).

Printed per run: the FAR the run promises at target 0.05, the FAR achieved on the unseen
scripts, MAP@R and P@1 there.

    python bench/operating_point_share.py --glyphs GLYPHS --seeds 0 1 2

One JSON line per (variant, seed) in bench/results/operating-point-share.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from select_keep_selection import siamkit

ROOT = Path(__file__).resolve().parent.parent
TRAIN, UNSEEN = "0-807", "808-1106"
VARIANTS = {"last2": [], "share20": ["--val-classes", "646-807"]}
RECIPE = ["--loss", "multi_similarity", "--epochs", "4", "--batch-size", "128",
          "--classes-per-batch", "32"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--glyphs", required=True, help="a folder written by siamkit glyphs render")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--results", type=Path,
                    default=ROOT / "bench/results/operating-point-share.jsonl")  # fmt: skip
    args = ap.parse_args()
    data = f"omniglot:{args.glyphs},background"
    with tempfile.TemporaryDirectory() as tmp, args.results.open("a") as out:
        for seed in args.seeds:
            for variant in args.variants:
                run = f"{tmp}/{variant}-{seed}"
                started = time.perf_counter()
                siamkit(["train", "--data", data, "--train-classes", TRAIN, "--eval-classes",
                         UNSEEN, *VARIANTS[variant], *RECIPE, "--seed", str(seed), "--out", run,
                         "--no-progress"])  # fmt: skip
                train_s = time.perf_counter() - started
                text = siamkit(["evaluate", run, "--json", "--bootstrap", "0", "--episodes", "200"])
                record = json.loads(text[text.index("{") :])
                op = record.get("operating_point") or {}
                metrics = json.loads(Path(run, "metrics.json").read_text())
                row = {
                    "variant": variant, "seed": seed, "train_s": train_s,
                    "epochs_chosen": metrics.get("refit", {}).get("epochs"),
                    "far_promised": op.get("promised_far"), "far_achieved": op.get("far"),
                    "frr_promised": op.get("promised_frr"), "frr_achieved": op.get("frr"),
                    "map_at_r": record["retrieval"]["map_at_r"],
                    "p_at_1": record["retrieval"]["precision_at_1"],
                }  # fmt: skip
                out.write(json.dumps(row) + "\n")
                out.flush()
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
