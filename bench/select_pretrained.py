"""Choose siamkit's pretrained recipe (efficientnet_lite0) WITHOUT classes 5-9 (issue 23).

A proxy on the training classes, through the CLI. Each candidate is a list of extra
``siamkit train`` flags (:data:`CANDIDATES`); per fold it trains on three of the training
classes and is scored on the other two, classes it never saw (the *near* score):

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

The *far* score (``--far``, on by default): the same trained run, scored by
``siamkit evaluate RUN --json --data digits --classes 0-9`` on scikit-learn's 1,797 bundled
8x8 digits, images nothing like the training classes. The near score alone rewards whatever
fits the training classes best; the far score says whether fine-tuning kept what pretraining
gave on images unlike them. (Why it was added: the recipe the near score alone chose, full
fine-tuning, fell below the untouched backbone on the benchmark's unseen classes, as the
2026-12-07 table in docs/benchmarks.md records; no figure of classes 5-9 enters this script.)

The rule: among the candidates whose training makes one pass per batch (no rotation task: the
issue asks for training images/s at least PML's, and the second pass halves it), adopt the one
with the highest mean near MAP@R at 600 a class, provided it is above the floor's near MAP@R on
every fold at both sizes and its far MAP@R at 600 a class is at least the floor's on every
fold. Its flags then go to ``RECIPE`` in bench/fmnist_pretrained.py (the defaults: ``[]``).

    python bench/select_pretrained.py        # the candidates + floor, 2 folds, seed 0, 600 and 100
    python bench/select_pretrained.py --candidates plain floor --folds 0-2/3-4 --seeds 0 \\
        --epochs 1 --per-class 8 --image-size 32 --data-dir D   # a smoke run on a tiny folder

One JSON line per (candidate, fold, seed, per_class) in bench/results/select-pretrained-far.jsonl
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

# candidate -> extra `siamkit train` flags (on top of siamkit's defaults: the whole backbone
# fine-tunes at lr 1e-3 x 0.1, 1280-d pooled features, multi-similarity + uniformity)
CANDIDATES: dict[str, list[str]] = {
    "keep": [],  # the pretrained features kept beside the fine-tuned ones (the defaults)
    "plain": ["--no-keep-pretrained"],  # the fine-tuned features alone
    "keep_rot": ["--rotation", "1"],  # + the rotation task (two passes per batch)
    "plain_rot": ["--no-keep-pretrained", "--rotation", "1"],  # the recipe before 2026-12-07
    "frozen_head": ["--trainable-blocks", "0", "--embedding-dim", "64"],  # only the head trains
    "partial2": ["--trainable-blocks", "2"],  # the last two blocks and the 1x1 top
}
ONE_PASS = {"keep", "plain", "frozen_head", "partial2"}  # one forward/backward per batch
CHOICES = [*CANDIDATES, FLOOR]

# fold -> (trained classes, scored classes); fixed before any result was seen
FOLDS: dict[str, tuple[str, str]] = {"0-2/3-4": ("0-2", "3-4"), "2-4/0-1": ("2-4", "0-1")}


FAR_EVALUATE = ["--data", "digits", "--classes", "0-9"]  # the far score's data


def commands(
    name: str, fold: str, data_dir: str, run: str, seed: str, epochs: int, image_size: int,
    config: str,
) -> tuple[list[str], list[str], dict[str, Any]]:  # fmt: skip
    """A candidate's ``init``/``train`` command, its ``evaluate`` and its ``--config`` settings."""
    trained, scored = FOLDS[fold]
    data = f"fashion-mnist:{data_dir}"
    evaluate = ["evaluate", run, "--json", "--split", "train", "--classes", scored,
                "--bootstrap", "0"]  # fmt: skip
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
    name: str, fold: str, seed: int | None, data_dir: Path, epochs: int, image_size: int,
    far: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Train (or init) one candidate on a fold and score it on the fold's held-out classes
    (and, with ``far``, on the far data set: ``far_map_at_r``, ``far_p_at_1``)."""
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
        if far:
            far_out, _ = siamkit([*evaluate[:3], *FAR_EVALUATE, "--bootstrap", "0"])
            far_got = figures(last_json(far_out))
            row |= {"far_map_at_r": far_got["map_at_r"], "far_p_at_1": far_got["p_at_1"]}
    record = last_json(out)
    if not record["held_out"]:  # the scored classes must be ones the run never trained on
        raise SystemExit(
            f"{name} {fold}: evaluated classes {record['seen_in_training']} trained on"
        )
    got = figures(record)
    return row | {k: got[k] for k in ("p_at_1", "map_at_r", "roc_auc", "eer")}


def render(rows: list[dict[str, Any]], per_class: list[int], floor_name: str = FLOOR) -> str:
    """Markdown: per candidate and per_class, mean near MAP@R (the folds' means in brackets),
    far MAP@R likewise, P@1 and train wall seconds; then what the rule picks."""

    def of(name: str, n: int, fold: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in rows
            if r["candidate"] == name and r["per_class"] == n and fold in (None, r["fold"])
        ]  # fmt: skip

    def mean(name: str, n: int, key: str, fold: str | None = None) -> float | None:
        vals = [r[key] for r in of(name, n, fold) if r.get(key) is not None]
        return statistics.fmean(vals) if vals else None

    def cell(name: str, n: int, key: str) -> str:
        m = mean(name, n, key)
        if m is None:
            return "—"
        folds = "/".join(
            f"{v:.3f}".lstrip("0") for fold in FOLDS if (v := mean(name, n, key, fold)) is not None
        )
        return f"{m:.3f} ({folds})"

    head = "| candidate |"
    for n in per_class:
        head += f" near MAP@R ({n}/class) | far MAP@R ({n}/class) | P@1 ({n}/class) | train s ({n}/class) |"
    lines = [head, "|---|" + "---|---|---|---|" * len(per_class)]
    names = [c for c in CHOICES if any(r["candidate"] == c for r in rows)]
    for name in names:
        cells = []
        for n in per_class:
            p, t = mean(name, n, "p_at_1"), mean(name, n, "train_s")
            cells += [cell(name, n, "map_at_r"), cell(name, n, "far_map_at_r"),
                      "—" if p is None else f"{p:.3f}", "—" if t is None else f"{t:,.0f}"]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    notes = ["", "near: the fold's two held-out training classes; far: scikit-learn's digits; "
             f"means over folds and seeds, the folds' means in brackets ({', '.join(FOLDS)}); "
             "train s: the `init`/`train` command's wall time."]  # fmt: skip
    big = max(per_class)

    def above_floor(c: str) -> bool:
        for fold in FOLDS:
            for n in per_class:
                got, floor = mean(c, n, "map_at_r", fold), mean(floor_name, n, "map_at_r", fold)
                if got is None or floor is None or got <= floor:
                    return False
            got, floor = (
                mean(c, big, "far_map_at_r", fold),
                mean(floor_name, big, "far_map_at_r", fold),
            )
            if got is None or floor is None or got < floor:
                return False
        return True

    eligible = [c for c in names if c in ONE_PASS and above_floor(c)]
    if eligible:
        best = max(eligible, key=lambda c: mean(c, big, "map_at_r") or 0.0)
        verdict = f"adopt **{best}** ({' '.join(CANDIDATES[best]) or 'no extra flags'})"
    else:
        verdict = "**none** qualifies"
    notes.append(
        f"Rule (one pass per batch; near MAP@R above the floor's on every fold at "
        f"{' and '.join(map(str, per_class))}/class; far MAP@R at {big}/class at least the "
        f"floor's on every fold; then the highest mean near MAP@R at {big}/class): {verdict}."
    )
    return "\n".join([*lines, *notes])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--candidates", nargs="+", default=CHOICES, choices=CHOICES)
    ap.add_argument("--folds", nargs="+", default=list(FOLDS), choices=list(FOLDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--no-far", dest="far", action="store_false", help="skip the far score")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--per-class", type=int, nargs="+", default=[600, 100])
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument(
        "--results", type=Path, default=ROOT / "bench/results/select-pretrained-far.jsonl"
    )
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
                        row |= run_candidate(
                            name, fold, seed, subset, args.epochs, args.image_size, args.far
                        )
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
