"""Choose siamkit's pretrained recipe (efficientnet_lite0) WITHOUT classes 5-9 (issue 23).

A proxy on the training classes, through the CLI. Each candidate is a list of extra
``siamkit train`` flags (:data:`CANDIDATES`); per fold it trains on three of the training
classes and is scored on the other two, classes it never saw:

- fold ``0-2/3-4``: ``--train-classes 0-2``, scored on 3-4;
- fold ``2-4/0-1``: ``--train-classes 2-4``, scored on 0-1;

with ``--no-refit --val-classes none --val-fraction 0`` (the candidate's own training, nothing
held out inside it), the given epochs, batch 64 and image size 64; scored by
``siamkit evaluate RUN --json --split train --classes C``. The data is the fixed subset of
bench/fmnist_pretrained.py (``--per-class`` items of each of the train split's classes 0-4,
drawn with seed 0), written as IDX files into a folder that holds nothing else: no test split
and no class 5-9 can be loaded. The scored items are the subset's items of the held-out classes
(``per_class`` a class). Both sizes run: 600 a class (the benchmark's) and 100 (a small data
set). ``floor`` is ``siamkit init`` (no training) for the same fold, scored the same way; it is
seed-independent, so it runs once per (fold, per_class) with ``seed: null``.

The rule, fixed before any result: adopt the candidate with the highest mean proxy MAP@R (over
folds and seeds) at per_class 600, provided it is above the floor at both sizes; its flags then
go to ``RECIPE`` in bench/fmnist_pretrained.py.

    python bench/select_pretrained.py        # 5 candidates + floor, 2 folds, seeds 0 1, 600 and 100
    python bench/select_pretrained.py --candidates frozen_head floor --folds 0-2/3-4 --seeds 0 \\
        --epochs 1 --per-class 8 --image-size 32 --data-dir D   # a smoke run on a tiny folder

One JSON line per (candidate, fold, seed, per_class) in bench/results/select-pretrained.jsonl
(written as they come), then a markdown table of the means.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_openset import figures, shown
from fmnist_pretrained import (
    BATCH,
    ENCODER,
    last_json,
    median_img_s,
    siamkit,
    train_flags,
    write_subset,
)

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "floor"

# candidate -> extra `siamkit train` flags (on top of siamkit's defaults)
CANDIDATES: dict[str, list[str]] = {
    "frozen_head": ["--trainable-blocks", "0", "--embedding-dim", "64"],  # only the head trains
    "full_nohead": [],  # full fine-tuning of the 1280-d features, backbone lr 1e-3 x 0.1
    "full_head": ["--embedding-dim", "64"],
    "partial4_nohead": ["--trainable-blocks", "4"],
    "full_nohead_lowlr": ["--lr", "1e-4"],  # backbone 1e-5
    "full_nohead_norot": ["--rotation", "0"],  # without the rotation task (half the passes)
}
CHOICES = [*CANDIDATES, FLOOR]

# fold -> (trained classes, scored classes); fixed before any result was seen
FOLDS: dict[str, tuple[str, str]] = {"0-2/3-4": ("0-2", "3-4"), "2-4/0-1": ("2-4", "0-1")}


def commands(
    name: str, fold: str, data_dir: str, run: str, seed: str, epochs: int, image_size: int,
    config: str,
) -> tuple[list[str], list[str], dict[str, Any]]:  # fmt: skip
    """A candidate's ``init``/``train`` command, its ``evaluate`` and its ``--config`` settings."""
    trained, scored = FOLDS[fold]
    data = f"fashion-mnist:{data_dir}"
    evaluate = ["evaluate", run, "--json", "--split", "train", "--classes", scored]
    if name == FLOOR:
        init = ["init", run, "--encoder", ENCODER, "--data", data, "--eval-classes", scored,
                "--image-size", str(image_size)]  # fmt: skip
        return init, evaluate, {}
    flags, settings = train_flags(CANDIDATES[name], config)
    train = ["train", "--data", data, "--encoder", ENCODER, "--train-classes", trained,
             "--eval-classes", scored, "--no-refit", "--val-classes", "none",
             "--val-fraction", "0", *flags, "--epochs", str(epochs), "--batch-size", str(BATCH),
             "--image-size", str(image_size), "--seed", seed, "--out", run, "--no-progress"]  # fmt: skip
    return train, evaluate, settings


def run_candidate(
    name: str, fold: str, seed: int | None, data_dir: Path, epochs: int, image_size: int
) -> dict[str, Any]:
    """Train (or init) one candidate on a fold and score it on the fold's held-out classes."""
    row: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run, config = f"{tmp}/run", f"{tmp}/settings.json"
        first, evaluate, settings = commands(
            name, fold, str(data_dir), run, str(seed), epochs, image_size, config
        )
        if settings:
            Path(config).write_text(json.dumps(settings))
        _, row["train_s"] = siamkit(first)
        if name != FLOOR:
            row["train_img_s"] = median_img_s(run)
        out, row["eval_s"] = siamkit(evaluate)
    record = last_json(out)
    if not record["held_out"]:  # the scored classes must be ones the run never trained on
        raise SystemExit(
            f"{name} {fold}: evaluated classes {record['seen_in_training']} trained on"
        )
    got = figures(record)
    return row | {k: got[k] for k in ("p_at_1", "map_at_r", "roc_auc", "eer")}


def render(rows: list[dict[str, Any]], per_class: list[int], floor_name: str = FLOOR) -> str:
    """Markdown: per candidate and per_class, mean MAP@R and P@1 over folds and seeds (MAP@R's
    fold means in brackets), mean train wall seconds; then what the rule picks."""

    def of(name: str, n: int, fold: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in rows
            if r["candidate"] == name and r["per_class"] == n and fold in (None, r["fold"])
        ]  # fmt: skip

    def mean(name: str, n: int, key: str) -> float | None:
        vals = [r[key] for r in of(name, n)]
        return statistics.fmean(vals) if vals else None

    head = "| candidate |"
    for n in per_class:
        head += f" MAP@R ({n}/class) | P@1 ({n}/class) | train s ({n}/class) |"
    lines = [head, "|---|" + "---|---|---|" * len(per_class)]
    names = [c for c in CHOICES if any(r["candidate"] == c for r in rows)]
    for name in names:
        cells = []
        for n in per_class:
            m, p, s = (mean(name, n, k) for k in ("map_at_r", "p_at_1", "train_s"))
            if m is None or p is None or s is None:
                cells += ["—"] * 3
                continue
            folds = "/".join(
                f"{statistics.fmean(r['map_at_r'] for r in got):.3f}".lstrip("0")
                for fold in FOLDS
                if (got := of(name, n, fold))
            )
            cells += [f"{m:.3f} ({folds})", f"{p:.3f}", f"{s:,.0f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    notes = ["", "MAP@R: mean over folds and seeds, the folds' means in brackets "
             f"({', '.join(FOLDS)}); train s: the `init`/`train` command's wall time."]  # fmt: skip
    big = max(per_class)
    trained = [c for c in names if c != floor_name and mean(c, big, "map_at_r") is not None]
    if trained and all(mean(floor_name, n, "map_at_r") is not None for n in per_class):
        ok = [
            c for c in trained
            if all((mean(c, n, "map_at_r") or 0.0) > (mean(floor_name, n, "map_at_r") or 0.0)
                   for n in per_class)
        ]  # fmt: skip
        best = max(trained, key=lambda c: mean(c, big, "map_at_r") or 0.0)
        verdict = (
            f"adopt **{best}** ({' '.join(CANDIDATES[best]) or 'no extra flags'})"
            if best in ok
            else f"**none**: the best at {big}/class, {best}, is not above the floor at every size"
        )
        notes.append(
            f"Rule (highest mean MAP@R at {big}/class, above the floor at "
            f"{' and '.join(map(str, per_class))}/class): {verdict}."
        )
    return "\n".join([*lines, *notes])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--candidates", nargs="+", default=CHOICES, choices=CHOICES)
    ap.add_argument("--folds", nargs="+", default=list(FOLDS), choices=list(FOLDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--per-class", type=int, nargs="+", default=[600, 100])
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/select-pretrained.jsonl")
    args = ap.parse_args()
    args.results.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, args.results.open("w") as out:
        for n in args.per_class:
            # classes 0-4 of the train split only, no test files: nothing else can be loaded
            subset = write_subset(args.data_dir, Path(tmp) / f"subset-{n}", n, with_test=False)
            for name in args.candidates:
                for fold in args.folds:
                    for seed in [None] if name == FLOOR else args.seeds:
                        row = {"candidate": name, "fold": fold, "seed": seed, "per_class": n,
                               "epochs": args.epochs, "image_size": args.image_size}  # fmt: skip
                        row |= run_candidate(name, fold, seed, subset, args.epochs, args.image_size)
                        rows.append(row)
                        out.write(json.dumps(row) + "\n")
                        out.flush()
                        print(json.dumps(row), flush=True)
    print()
    print(
        f"Command: `python bench/select_pretrained.py --candidates {' '.join(args.candidates)} "
        f"--seeds {' '.join(map(str, args.seeds))} --epochs {args.epochs} --per-class "
        f"{' '.join(map(str, args.per_class))} --image-size {args.image_size}` "
        f"({(time.perf_counter() - started) / 60:.1f} min)"
    )
    print()
    print(render(rows, args.per_class))
    print()
    print("The commands (DIR: the subset folder, RUN: a fresh run folder, S: the seed):")
    for name in args.candidates:
        first, evaluate, settings = commands(
            name, args.folds[0], "DIR", "RUN", "S", args.epochs, args.image_size, "CFG"
        )
        extra = f" (CFG: `{json.dumps(settings)}`)" if settings else ""
        print(f"- {name}: `{shown(first)}` then `{shown(evaluate)}`{extra}")


if __name__ == "__main__":
    main()
