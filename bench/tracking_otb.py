"""SiamFC tracking benchmark: train on generated sequences (training side), then one-pass
evaluation (OTB success AUC, precision at 20 px, frames/s) on held-out generated sequences,
beside two baselines measured in the same run on the same frames:

  stay        the first box on every frame (what a tracker that never moves scores)
  untrained   the same network and tracking loop with randomly initialised weights
  siamfc      the trained run (checkpoint and cosine-window weight chosen on validation
              sequences from the training side: held-out training items, training backgrounds)

Held-out sequences: Fashion-MNIST *test* items of classes 7-9 (never trained on: training uses
the train file's classes 0-6) over `tree.avi` and photographs from opencv-doc that no training
sequence uses (siamkit.apps.tracking.sources). Speeds are tracker time per frame (decoding and
rendering excluded) with --threads torch threads, on a machine shared with other jobs: noisy,
so the load average and process CPU time are recorded beside them.

Run: python bench/tracking_otb.py                    (train ~2.5 CPU-minutes + evaluate ~1 minute)
     python bench/tracking_otb.py --run runs/tracker (evaluate an existing run only)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=None, help="Evaluate this run instead of training one.")
    parser.add_argument("--train-out", default="runs/tracker-bench")
    parser.add_argument("--steps", type=int, default=900, help="Training steps.")
    parser.add_argument("--minutes", type=float, default=20.0, help="Training wall-clock cap.")
    parser.add_argument("--sequences", type=int, default=30)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/results/tracking-otb.jsonl")
    args = parser.parse_args()

    from siamkit.apps.tracking.heldout import compare_trackers, evaluation_sequences
    from siamkit.apps.tracking.training import TrackerTrainConfig, train_tracker

    record: dict[str, object] = {
        "bench": "tracking-otb",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    run = args.run
    if run is None:
        start, cpu = time.perf_counter(), time.process_time()
        cfg = TrackerTrainConfig(
            out=args.train_out, steps=args.steps, minutes=args.minutes, seed=args.seed
        )
        run = str(train_tracker(cfg))
        record["train"] = {
            "wall_s": round(time.perf_counter() - start, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
            "config": cfg.model_dump(mode="json"),
        }
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    record["run"] = run
    record["validation"] = {
        k: metrics.get(k) for k in ("best_step", "best_val_auc", "steps", "window_influence")
    }

    seqs = evaluation_sequences(args.sequences, args.length)
    load_before, start, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    rows = compare_trackers(run, list(seqs), threads=args.threads)
    record["eval"] = {
        "sequences": len(seqs),
        "frames": sum(len(s) for s in seqs),
        "threads": args.threads,
        "wall_s": round(time.perf_counter() - start, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    record["results"] = [
        {
            "tracker": r.name,
            "auc": round(r.ope.auc, 4),
            "precision20": round(r.ope.precision, 4),
            "mean_iou": round(r.ope.mean_iou, 4),
            "fps": round(r.fps, 1),
        }
        for r in rows
    ]
    record["machine"] = {
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    for r in record["results"]:  # type: ignore[attr-defined]
        print(
            f"{r['tracker']:10s} AUC {r['auc']:.3f}  precision@20 {r['precision20']:.3f}  {r['fps']:.1f} frames/s"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()
