"""Every loss × miner on fmnist-openset, plus the self-supervised and imbalance figures (issue 5).

Same protocol as bench/fmnist_openset.py (train-split classes 0-4, test-split classes 5-9, the
reference encoder, Adam 1e-3, batch 128, 5 epochs, 2 threads, last epoch evaluated), one seed:

- each loss and miner (`ROWS`);
- self-supervised NT-Xent on all 60,000 training images without labels (two augmented views);
- imbalance: class 0 cut to 5% of its items, with class-balanced P×K batches and with plain
  random batches, beside the balanced-data run.

    python bench/losses_table.py [--seed 0] [--epochs 5] [--smoke --data-dir D]

Writes bench/results/losses-table.jsonl and the table between the losses markers of
docs/benchmarks.md (not with --smoke).
"""

from __future__ import annotations

import argparse
import gzip
import json
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_openset import MEAN, STD, evaluate, write_docs

ROOT = Path(__file__).resolve().parent.parent

ROWS: dict[str, dict[str, Any]] = {
    "contrastive": {"loss": "contrastive"},
    "contrastive + hard_pairs (online_contrastive)": {"loss": "online_contrastive"},
    "triplet (all triplets)": {"loss": "triplet"},
    "triplet(0.2) + batch_hard": {"loss": "triplet", "margin": 0.2, "miner": "batch_hard"},
    "triplet(0.2) + semi_hard": {"loss": "triplet", "margin": 0.2, "miner": "semi_hard"},
    "triplet(0.2) + distance_weighted": {
        "loss": "triplet",
        "margin": 0.2,
        "miner": "distance_weighted",
    },
    "nt_xent (τ 0.1)": {"loss": "nt_xent"},
    "multi_similarity": {"loss": "multi_similarity"},
    "arcface": {"loss": "arcface"},
    "koch (L1 + sigmoid head)": {"loss": "koch"},
    "contrastive, learned mahalanobis": {"loss": "contrastive", "distance": "mahalanobis"},
    "self-supervised nt_xent, 60k unlabelled": {
        "loss": "nt_xent",
        "self_supervised": True,
        "train_classes": "all",
    },
    "imbalanced (class 0 at 5%), P×K batches": {"loss": "contrastive", "imbalanced": True},
    "imbalanced (class 0 at 5%), random batches": {
        "loss": "contrastive",
        "imbalanced": True,
        "sampling": "random",
    },
    # the default image recipe (multi-similarity + 0.3 uniformity) balanced and imbalanced
    "default recipe, balanced data": {"loss": "multi_similarity", "uniformity": 0.3},
    "default recipe, imbalanced (class 0 at 5%), P×K batches": {
        "loss": "multi_similarity",
        "uniformity": 0.3,
        "imbalanced": True,
    },
    "default recipe, imbalanced, random batches": {
        "loss": "multi_similarity",
        "uniformity": 0.3,
        "imbalanced": True,
        "sampling": "random",
    },
    "default recipe, imbalanced, random batches ∝ 1/class size": {
        "loss": "multi_similarity",
        "uniformity": 0.3,
        "imbalanced": True,
        "sampling": "random",
        "class_weighting": "inverse_frequency",
    },
}


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(
        struct.pack(">I", n) for n in arr.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def imbalanced_copy(src: Path, dst: Path, cls: int = 0, keep: float = 0.05, seed: int = 0) -> None:
    """Fashion-MNIST with ``keep`` of class ``cls``'s training items (test split unchanged)."""
    from siamkit.data.idx import read_idx

    images = read_idx(src / "train-images-idx3-ubyte.gz")
    labels = read_idx(src / "train-labels-idx1-ubyte.gz")
    idx = np.nonzero(labels == cls)[0]
    drop = np.random.default_rng(seed).permutation(idx)[int(round(len(idx) * keep)) :]
    mask = np.ones(len(labels), bool)
    mask[drop] = False
    _write_idx(dst / "train-images-idx3-ubyte.gz", images[mask])
    _write_idx(dst / "train-labels-idx1-ubyte.gz", labels[mask])
    for part in ("images-idx3", "labels-idx1"):
        (dst / f"t10k-{part}-ubyte.gz").write_bytes((src / f"t10k-{part}-ubyte.gz").read_bytes())


def run_row(
    name: str, recipe: dict[str, Any], data_dir: Path, epochs: int, seed: int, episodes: int
) -> dict[str, Any]:
    from siamkit.data import load_data
    from siamkit.evaluation import embed_all
    from siamkit.training import TrainConfig, load_run, train

    recipe = dict(recipe)
    imbalanced = recipe.pop("imbalanced", False)
    with tempfile.TemporaryDirectory() as tmp:
        source = data_dir
        if imbalanced:
            source = Path(tmp) / "data"
            source.mkdir()
            imbalanced_copy(data_dir, source, seed=seed)
        settings: dict[str, Any] = {
            "data": f"fashion-mnist:{source}", "train_classes": "0-4", "eval_classes": "5-9",
            "val_classes": "none", "val_fraction": 0.0, "input_mean": [MEAN], "input_std": [STD],
            "epochs": epochs, "batch_size": 128, "lr": 1e-3, "seed": seed, "num_threads": 2,
            "device": "cpu", "out": f"{tmp}/run",
        }  # fmt: skip
        settings.update(recipe)
        started = time.perf_counter()
        result = train(TrainConfig(**settings), progress=False)
        seconds = time.perf_counter() - started
        model = load_run(result.run_dir, "last").model
        test = load_data(f"fashion-mnist:{data_dir}", split="test").of_classes([5, 6, 7, 8, 9])
        emb = embed_all(model, test.x)
    history = result.history
    row = {"row": name, **recipe, "imbalanced": imbalanced, "seed": seed, "epochs": epochs,
           "train_seconds": seconds, "train_img_s": history[-1]["images_per_second"]}  # fmt: skip
    if "miner" in history[-1]:
        row["miner_stats_last_epoch"] = history[-1]["miner"]
    row.update(evaluate(emb, test.y, episodes))
    return row


def render(rows: list[dict[str, Any]], command: str, seconds: float) -> str:
    lines = [
        f"Command: `{command}` ({seconds / 60:.1f} min; one seed, per-row figures)",
        "",
        "| recipe | P@1 | MAP@R | ROC-AUC | EER | 5w1s | 5w5s | train img/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['row']} | {r['p_at_1']:.3f} | {r['map_at_r']:.3f} | {r['roc_auc']:.3f} | "
            f"{r['eer']:.3f} | {r['5w1s']:.3f} | {r['5w5s']:.3f} | {r['train_img_s']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument("--rows", nargs="+", default=list(ROWS))
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/losses-table.jsonl")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs/benchmarks.md")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.smoke:
        args.epochs, args.episodes = 1, 50
    rows = []
    started = time.perf_counter()
    for name in args.rows:
        row = run_row(name, ROWS[name], args.data_dir, args.epochs, args.seed, args.episodes)
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    command = f"python bench/losses_table.py --seed {args.seed} --epochs {args.epochs}"
    table = render(rows, command, time.perf_counter() - started)
    print(table)
    if not args.smoke:
        write_docs(args.docs, table, "losses")


if __name__ == "__main__":
    main()
