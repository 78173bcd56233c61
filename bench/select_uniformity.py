"""Choose the uniformity weight λ for multi-similarity WITHOUT looking at classes 5-9.

Cross-validation over training classes as in bench/select_recipe.py: in each fold two of
classes 0-4 are held out whole, the reference encoder (siamkit's ``conv``: 32-64-128, 64-d,
L2-normalised) trains 5 epochs on the other three (Adam 1e-3, batch 128, shuffled batches) with
``multi_similarity + λ·uniformity``, and is scored on the held-out pair (MAP@R, cosine).
One thread, quality only. The decision rule was fixed before the runs: adopt the λ > 0 whose
mean over the folds beats λ = 0.

    python bench/select_uniformity.py --lambdas 0 0.3 1.0 --folds 0,1 3,4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
MEAN, STD = 0.2860, 0.3530


def score(lam: float, fold: tuple[int, int], seed: int, data_dir: Path, epochs: int) -> dict:
    from siamkit.data import load_data
    from siamkit.distances import get_distance
    from siamkit.evaluation import retrieval_metrics
    from siamkit.losses import get_loss
    from siamkit.losses.uniformity import UniformityLoss
    from siamkit.models.spec import ModelSpec, build_model

    torch.manual_seed(seed)
    data = load_data(f"fashion-mnist:{data_dir}", split="train")
    train = data.of_classes([c for c in range(5) if c not in fold])
    val = data.of_classes(list(fold))
    spec = ModelSpec(encoder="conv", input_shape=[1, 28, 28], kind="image", embedding_dim=64,
                     distance="cosine")  # fmt: skip
    model = build_model(spec)
    model.encoder[0].mean.fill_(MEAN)  # the protocol's standardisation
    model.encoder[0].std.fill_(STD)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ms, uniformity = get_loss("multi_similarity"), UniformityLoss()
    g = torch.Generator().manual_seed(seed)
    n, batch = len(train.y), 128
    started = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        for s in range(0, n - batch + 1, batch):
            idx = order[s : s + batch]
            z = model.embed(train.x[idx])  # (B, 64)
            loss = ms(z, train.y[idx]) + (lam * uniformity(z) if lam > 0 else 0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.inference_mode():
        emb = torch.cat([model.embed(val.x[i : i + 512]) for i in range(0, len(val.y), 512)])
    r = retrieval_metrics(emb, val.y, distance=get_distance("cosine"), ks=(1,))
    return {"lambda": lam, "fold": list(fold), "seed": seed, "epochs": epochs,
            "val_map_at_r": r.map_at_r, "val_p_at_1": r.precision_at_1,
            "seconds": time.perf_counter() - started}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 0.3, 1.0])
    ap.add_argument("--folds", nargs="+", default=["0,1", "3,4"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/select-uniformity.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("a") as f:
        for lam in args.lambdas:
            for spec in args.folds:
                a, b = (int(c) for c in spec.split(","))
                row = score(lam, (a, b), args.seed, args.data_dir, args.epochs)
                print(json.dumps(row), flush=True)
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
