"""Issue 22 development experiment: does ``--keep-selection`` (the final model embeds with the
selection model beside the refit one) help on classes the run never saw? Never on fmnist's
evaluation classes 5-9.

Two settings, each through the CLI (``siamkit train ... --keep-selection``, then ``siamkit
evaluate RUN --json`` twice: ``--checkpoint best``, the joined model, and ``--checkpoint
last``, the refit model alone, which is what the run gives without the flag; one training
serves both rows):

- ``digits``: scikit-learn's digits, train 0-4, unseen 5-9 (a development set: no reported
  figure comes from it), CLI defaults otherwise, seeds 0-4;
- ``fmnist-proxy``: Fashion-MNIST's *training* classes only: ``--train-classes 0-2``, scored on
  3-4 of the train split, and ``--train-classes 2-4``, scored on 0-1 (with three training
  classes the selection run holds out the last one and trains on two), 5 epochs, seed 0.

    python bench/select_keep_selection.py --settings digits fmnist-proxy
    python bench/select_keep_selection.py --settings fmnist-proxy-more --append
    python bench/select_keep_selection.py --settings fmnist-proxy-default \
        fmnist-proxy-no-uniformity --seeds 1 --append

``fmnist-proxy-more`` is the other eight ways to take three of the five training classes.

One JSON line per (setting, fold, seed) in bench/results/select-keep-selection.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_pretrained import siamkit as run_siamkit

ROOT = Path(__file__).resolve().parent.parent
# the other eight ways to take three of the five training classes: (trained, scored)
MORE_FOLDS = [("013", "24"), ("014", "23"), ("023", "14"), ("024", "13"), ("034", "12"),
              ("123", "04"), ("124", "03"), ("134", "02")]  # fmt: skip
# setting -> [(train classes, scored classes, split, extra train flags)], seeds
SETTINGS: dict[str, tuple[list[tuple[str, str, str, list[str]]], list[int]]] = {
    "digits": ([("0-4", "5-9", "test", [])], [0, 1, 2, 3, 4]),
    "fmnist-proxy": (
        [("0-2", "3-4", "train", ["--epochs", "5"]), ("2-4", "0-1", "train", ["--epochs", "5"])],
        [0],
    ),
    "fmnist-proxy-more": (
        [(",".join(t), ",".join(s), "train", ["--epochs", "5"]) for t, s in MORE_FOLDS],
        [0],
    ),
}
# all ten folds again with the uniformity term off (issue 22, small data sets: does the term
# still help at 6,000 images per class?); its refit_alone rows pair with the rows above
ALL_FOLDS = [("0,1,2", "3,4"), ("2,3,4", "0,1")] + [
    (",".join(t), ",".join(s)) for t, s in MORE_FOLDS
]
SETTINGS["fmnist-proxy-no-uniformity"] = (
    [(t, s, "train", ["--epochs", "5", "--uniformity", "0"]) for t, s in ALL_FOLDS],
    [0],
)
# the default recipe on the same ten folds (the pair of the rows above for another seed)
SETTINGS["fmnist-proxy-default"] = (
    [(t, s, "train", ["--epochs", "5"]) for t, s in ALL_FOLDS],
    [0],
)
DATA = {name: "fashion-mnist" for name in SETTINGS if name != "digits"} | {"digits": "digits"}


def siamkit(args: list[str]) -> str:
    """``python -m siamkit ARGS`` with 2 threads (fmnist_pretrained's runner): its stdout."""
    return run_siamkit(args)[0]


def scores(run: str, classes: str, split: str, checkpoint: str) -> dict[str, Any]:
    out = siamkit(["evaluate", run, "--json", "--classes", classes, "--split", split,
                   "--checkpoint", checkpoint, "--bootstrap", "0", "--episodes", "200"])  # fmt: skip
    record = json.loads(out[out.index("{") :])
    if not record["held_out"]:
        raise SystemExit(f"{run}: scored classes {classes} were trained on")
    op = record.get("operating_point") or {}
    return {
        "map_at_r": record["retrieval"]["map_at_r"],
        "p_at_1": record["retrieval"]["precision_at_1"],
        "far_promised": op.get("promised_far"),
        "far_achieved": op.get("far"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--results", type=Path,
                    default=ROOT / "bench/results/select-keep-selection.jsonl")  # fmt: skip
    ap.add_argument("--append", action="store_true", help="add rows to --results, keep the old")
    ap.add_argument("--seeds", type=int, nargs="+", help="these seeds instead of each setting's")
    args = ap.parse_args()
    rows = []
    mode = "a" if args.append else "w"
    with tempfile.TemporaryDirectory() as tmp, args.results.open(mode) as out:
        # fold by fold, every setting (so that a stopped run leaves paired rows)
        jobs = [
            (i, seed, k, setting, fold)
            for k, setting in enumerate(args.settings)
            for i, fold in enumerate(SETTINGS[setting][0])
            for seed in (args.seeds or SETTINGS[setting][1])
        ]
        for _, seed, _, setting, (trained, scored, split, extra) in sorted(jobs):
            run = f"{tmp}/{setting}-{trained}-{seed}"
            started = time.perf_counter()
            siamkit(["train", "--data", DATA[setting], "--train-classes", trained,
                     "--eval-classes", scored, "--keep-selection", *extra,
                     "--seed", str(seed), "--out", run, "--no-progress"])  # fmt: skip
            row = {"setting": setting, "fold": f"{trained}/{scored}", "seed": seed,
                   "train_s": time.perf_counter() - started,
                   "joined": scores(run, scored, split, "best"),
                   "refit_alone": scores(run, scored, split, "last")}  # fmt: skip
            rows.append(row)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    print(
        "| setting | fold | seed | MAP@R refit alone | MAP@R joined | P@1 refit alone | P@1 joined |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        a, j = r["refit_alone"], r["joined"]
        print(f"| {r['setting']} | {r['fold']} | {r['seed']} | {a['map_at_r']:.3f} | "
              f"{j['map_at_r']:.3f} | {a['p_at_1']:.3f} | {j['p_at_1']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
