"""Issue 22 development experiment: would centring the embeddings on the training classes' mean
before the cosine (``normalise(e - a * mean)``, ``a`` 1 or 0.5) raise MAP@R on classes the
model never saw? A post-hoc change: no retraining, one 64-d vector kept with the model. Never
on Fashion-MNIST's evaluation classes 5-9.

For each of the ten ways to take three of the five training classes (``--source fashion-mnist``,
classes 0-4 of the train split; or ``--source digits``, 10 epochs as ``make demo``): ``siamkit
train --train-classes T --eval-classes S --seed SEED`` (the CLI defaults, refit included), then
the final model embeds 5,000 random items of T (the mean comes from these) and every item of
the scored classes S (train split); MAP@R (leave-one-out, cosine) for:

- ``raw``: the embeddings as the model gives them (what ``siamkit evaluate`` scores);
- ``center``: minus the training mean, L2-normalised again;
- ``center_half``: minus half the training mean, L2-normalised again;
- ``whiten_shrunk``: PCA whitening on the training embeddings with the eigenvalues raised by
  their mean (shrinkage), then L2-normalised.

    python bench/select_centering.py --seed 0        # about 20 minutes on 2 cores

Results: one JSON line per fold in bench/results/select-centering.jsonl (appended).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from siamkit.data import load_data, parse_classes
from siamkit.evaluation.retrieval_metrics import retrieval_metrics
from siamkit.models.embed import embed_all
from siamkit.run.checkpoint import load_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_pretrained import siamkit as run_siamkit
from select_keep_selection import ALL_FOLDS as FOLDS  # the ten (trained, scored) folds

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = {"fashion-mnist": "5", "digits": "10"}
MEAN_ITEMS = 5_000


def unit(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = a / np.linalg.norm(a, axis=1, keepdims=True)
    return out


def variants(
    train_emb: npt.NDArray[np.float64], scored: npt.NDArray[np.float64]
) -> dict[str, npt.NDArray[np.float64]]:
    """The scored embeddings as the model gives them and after each post-hoc change."""
    mu = train_emb.mean(0)
    w, v = np.linalg.eigh(np.cov(train_emb - mu, rowvar=False))
    whiten = v @ np.diag(1.0 / np.sqrt(w + w.mean())) @ v.T
    return {
        "raw": scored,
        "center": unit(scored - mu),
        "center_half": unit(scored - 0.5 * mu),
        "whiten_shrunk": unit((scored - mu) @ whiten),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", default="fashion-mnist", choices=list(EPOCHS))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/select-centering.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, args.results.open("a") as out:
        full = load_data(args.source, split="train")
        for trained, scored in FOLDS:
            run = Path(tmp) / f"{trained.replace(',', '')}-s{args.seed}"
            run_siamkit(["train", "--data", args.source, "--train-classes", trained,
                         "--eval-classes", scored, "--epochs", EPOCHS[args.source],
                         "--seed", str(args.seed), "--out", str(run), "--no-progress"])  # fmt: skip
            loaded = load_run(run)
            g = torch.Generator().manual_seed(0)
            tr = full.of_classes(parse_classes(trained, full.class_names))
            tr = tr.subset(torch.randperm(len(tr), generator=g)[:MEAN_ITEMS])
            sc = full.of_classes(parse_classes(scored, full.class_names))
            e_tr = embed_all(loaded.model, tr.x).double().numpy()
            e_sc = embed_all(loaded.model, sc.x).double().numpy()
            row: dict[str, object] = {"source": args.source, "fold": f"{trained}/{scored}",
                                      "seed": args.seed}  # fmt: skip
            for name, emb in variants(e_tr, e_sc).items():
                m = retrieval_metrics(emb.astype(np.float32), sc.y.numpy(), distance="cosine")
                row[name] = round(float(m.map_at_r), 4)
            rows.append(row)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    for name in ("center", "center_half", "whiten_shrunk"):
        diff = [float(r[name]) - float(r["raw"]) for r in rows]  # type: ignore[arg-type]
        print(f"{name}: higher on {sum(d > 0 for d in diff)} of {len(diff)} folds, "
              f"mean {sum(diff) / len(diff):+.4f} MAP@R")  # fmt: skip


if __name__ == "__main__":
    main()
