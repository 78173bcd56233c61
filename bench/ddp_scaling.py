"""ddp-scaling: training throughput of 1 process against 2 DDP processes (torchrun, gloo) on CPU.

Every setup is the real command a user runs, in its own subprocess, on the same data, global
batch and seed:

    1 x 1   siamkit train --num-threads 1                        (one core)
    1 x 2   siamkit train --num-threads 2                        (two cores, one process)
    2 x 1   torchrun --standalone --nproc-per-node 2 -m siamkit train --num-threads 1
    2 x 1 no-gather   the same with --no-gather-negatives

images/s is the trainer's own figure (items embedded per second of training, batch building
included, validation excluded; summed over processes), the median over the measured epochs of
all repeats. Scaling efficiency = images/s / (cores x images/s of 1 x 1). On a 2-core machine
the honest comparison is 2 x 1 against 1 x 2: both use both cores, and only the first adds
processes and their communication. Setups run interleaved (a, b, c, a, b, c, ...) so load from
other jobs spreads over all of them.

    python bench/ddp_scaling.py                          # Fashion-MNIST classes 0-2, 3 repeats
    python bench/ddp_scaling.py --data digits --train-classes 0-4 --epochs 3 --repeats 1  # smoke

Results: one JSON line per run in bench/results/ddp-scaling.jsonl and a Markdown table on
stdout (pasted into docs/distributed.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETUPS: dict[str, tuple[int, int, list[str]]] = {  # name: processes, threads, extra flags
    "1 x 1": (1, 1, []),
    "1 x 2": (1, 2, []),
    "2 x 1": (2, 1, []),
    "2 x 1 no-gather": (2, 1, ["--no-gather-negatives"]),
}


def run_setup(name: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Train once with one setup; its per-epoch throughput and losses."""
    procs, threads, extra = SETUPS[name]
    train = [
        *("train", "--data", args.data, "--train-classes", args.train_classes),
        *("--eval-classes", args.eval_classes, "--val-classes", "none", "--val-fraction", "0"),
        *("--epochs", str(args.epochs), "--batch-size", str(args.batch_size)),
        *("--seed", str(args.seed), "--num-threads", str(threads), "--device", "cpu"),
        *("--out", str(out), "--overwrite", "--no-progress", *extra),
    ]
    if procs == 1:
        cmd = [sys.executable, "-m", "siamkit", *train]
    else:
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
        cmd = [sys.executable, *launcher, str(procs), "-m", "siamkit", *train]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    history = json.loads((out / "metrics.json").read_text())["history"]
    return {
        "setup": name,
        "processes": procs,
        "threads_per_process": threads,
        "cores": procs * threads,
        "images_per_second": [h["images_per_second"] for h in history],
        "train_loss": [h["train_loss"] for h in history],
        "wall_seconds": time.perf_counter() - started,
        "command": " ".join(cmd[1:]),
    }


def table(rows: list[dict[str, Any]], skip: int) -> str:
    """Median images/s per setup (epochs after the first ``skip`` of each run)."""
    base = None
    lines = [
        "| setup (processes x threads) | cores | images/s (median) | range | vs 1 x 1 "
        "| scaling efficiency | final train loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in SETUPS:
        runs = [r for r in rows if r["setup"] == name]
        if not runs:
            continue
        rates = [v for r in runs for v in r["images_per_second"][skip:]]
        med = statistics.median(rates)
        base = med if name == "1 x 1" else base
        cores = runs[0]["cores"]
        vs = f"{med / base:.2f}x" if base else "-"
        eff = f"{med / (cores * base):.0%}" if base else "-"
        loss = statistics.median(r["train_loss"][-1] for r in runs)
        lines.append(
            f"| {name} | {cores} | {med:,.0f} | {min(rates):,.0f}-{max(rates):,.0f} | {vs} "
            f"| {eff} | {loss:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--train-classes", default="0-2")
    parser.add_argument("--eval-classes", default="5-9")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-epochs", type=int, default=1, help="warm-up epochs not counted")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated subset")
    parser.add_argument("--results", type=Path, default=ROOT / "bench/results/ddp-scaling.jsonl")
    args = parser.parse_args()
    names = [s.strip() for s in args.setups.split(",")]
    unknown = [n for n in names if n not in SETUPS]
    if unknown:
        raise SystemExit(f"unknown setups {unknown}; choose from: {', '.join(SETUPS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name in names:
                row = run_setup(name, args, Path(tmp) / f"run{repeat}")
                row |= {
                    "repeat": repeat,
                    "data": args.data,
                    "train_classes": args.train_classes,
                    "batch_size": args.batch_size,
                    "epochs": args.epochs,
                    "cpu_count": os.cpu_count(),
                    "load_average": os.getloadavg(),
                    "machine": platform.platform(),
                    "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                }
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(table(rows, args.skip_epochs))


if __name__ == "__main__":
    main()
