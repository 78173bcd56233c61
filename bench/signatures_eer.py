"""signatures-eer: writer-independent signature verification on the synthetic CEDAR-layout set.

Runs the exact commands of docs/applications/signatures.md, through the CLI:

1. ``siamkit signatures render``: 60 writers, 24 genuine + 24 skilled forgeries each; writers
   1-30 train, 31-40 validate, 41-60 evaluate (in hands no training writer used).
2. ``siamkit train`` on ``cedar:SET`` (genuine signatures only) and on ``cedar-hands:SET``
   (forgeries too, in the class of the hand that wrote them); model selection on writers 31-40.
3. Two calibrated thresholds, both on writers 31-40: ``siamkit calibrate --classes 31-40``
   (genuine vs other writers' genuine pairs: random forgeries) and
   ``siamkit signatures calibrate`` (genuine vs skilled forgeries, balanced).
4. ``siamkit signatures evaluate --json`` on writers 41-60 after each calibration: EER and
   FAR / FRR at the threshold, against skilled and against random forgeries.

    python bench/signatures_eer.py                 # ~20 min on 2 busy cores
    python bench/signatures_eer.py --reuse         # keep finished runs, redo steps 3-4
    python bench/signatures_eer.py --smoke         # 8 writers, 1 epoch: checks the plumbing
    python bench/signatures_eer.py --encoder efficientnet_lite0 --recipes cedar   # pretrained

Results: one JSON line per (recipe, seed, threshold) in bench/results/signatures-eer.jsonl and
a markdown table on stdout (pasted into docs/applications/signatures.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECIPES = {
    "cedar": "genuine only (`cedar:`)",
    "cedar-hands": "+ forgeries by hand (`cedar-hands:`)",
}


def siamkit(*args: str) -> str:
    """Run ``siamkit ARGS`` (this interpreter's), fail loudly, return stdout."""
    cmd = [sys.executable, "-m", "siamkit", *args]
    print("$ siamkit " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", type=Path, default=Path("/tmp/siamkit-signatures/set"))
    ap.add_argument("--runs", type=Path, default=Path("/tmp/siamkit-signatures/runs"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--reuse", action="store_true", help="keep finished runs")
    ap.add_argument("--smoke", action="store_true", help="8 writers, 1 epoch")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/signatures-eer.jsonl")
    ap.add_argument("--encoder", default=None, help="--encoder for siamkit train (default: conv)")
    ap.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=sorted(RECIPES))
    a = ap.parse_args()
    encoder = [] if a.encoder is None else ["--encoder", a.encoder]
    if a.smoke:
        split = {"writers": "8", "val": "2", "eval": "2", "n": "4"}
        classes = ("1-6", "5-6", "7-8")
        a.epochs = 1
    else:
        split = {"writers": "60", "val": "10", "eval": "20", "n": "24"}
        classes = ("1-40", "31-40", "41-60")
    if not (a.set / "full_org").is_dir():
        siamkit(
            "signatures",
            "render",
            "--out",
            str(a.set),
            "--writers",
            split["writers"],
            "--val-writers",
            split["val"],
            "--eval-writers",
            split["eval"],
            "--genuine",
            split["n"],
            "--forgeries",
            split["n"],
            "--seed",
            "0",
        )
    train_classes, val_classes, eval_classes = classes
    rows: list[dict[str, Any]] = []
    for seed in a.seeds:
        for recipe in a.recipes:
            run = a.runs / f"{recipe}{'-' + a.encoder if a.encoder else ''}-s{seed}"
            started = time.time()
            reused = a.reuse and (run / "best").is_dir()
            if not reused:
                siamkit(
                    "train",
                    "--data",
                    f"{recipe}:{a.set}",
                    "--train-classes",
                    train_classes,
                    "--val-classes",
                    val_classes,
                    "--val-fraction",
                    "0",
                    "--no-refit",  # the thresholds are fitted on writers 31-40: never trained on
                    "--eval-classes",
                    eval_classes,
                    "--loss",
                    "multi_similarity",
                    "--epochs",
                    str(a.epochs),
                    "--batch-size",
                    "64",
                    "--classes-per-batch",
                    "16",
                    "--num-threads",
                    "1",
                    "--seed",
                    str(seed),
                    "--out",
                    str(run),
                    "--overwrite",
                    "--no-progress",
                    *encoder,
                )
            train_s = None if reused else round(time.time() - started, 1)
            for how in ("siamkit calibrate (random)", "signatures calibrate (skilled)"):
                if how.startswith("siamkit"):
                    siamkit(
                        "calibrate", str(run), "--data", f"cedar:{a.set}", "--classes", val_classes
                    )
                else:
                    siamkit(
                        "signatures",
                        "calibrate",
                        str(run),
                        "--data",
                        str(a.set),
                        "--writers",
                        val_classes,
                    )
                report = json.loads(
                    siamkit(
                        "signatures",
                        "evaluate",
                        str(run),
                        "--data",
                        str(a.set),
                        "--writers",
                        eval_classes,
                        "--json",
                    )
                )
                rows.append(
                    {
                        "recipe": recipe,
                        "encoder": a.encoder or "conv",
                        "seed": seed,
                        "epochs": a.epochs,
                        "threshold_from": how,
                        "train_seconds": train_s,
                        **report,
                    }
                )
    if not a.smoke:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        with a.out.open("a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    print(table(rows))


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per (recipe, seed, threshold), skilled and random side by side."""
    head = (
        "| training data | encoder | seed | threshold fitted on validation writers by | "
        "threshold | skilled EER | skilled FAR | random EER | random FAR | FRR | train s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        sk, rd = r["skilled"], r["random"]
        lines.append(
            f"| {RECIPES[r['recipe']]} | {r.get('encoder', 'conv')} | {r['seed']} | "
            f"{r['threshold_from']} | {r['threshold']:.3f} | {sk['eer']:.3f} | {sk['far']:.3f} | "
            f"{rd['eer']:.3f} | {rd['far']:.3f} | {rd['frr']:.3f} | {r['train_seconds']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
