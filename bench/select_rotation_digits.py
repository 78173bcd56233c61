"""Rotation prediction on scikit-learn's digits, on validation folds of the training digits 0-4
only (digits 5-9 are never loaded): the default image recipe (multi-similarity + 0.3·uniformity,
10 epochs as in `make demo`) with --rotation 0 and 1, three seeds, folds (0,1) and (3,4).

    python bench/select_rotation_digits.py     # about 3 minutes; rows appended to bench/results/
"""

from __future__ import annotations

import json
import tempfile

import torch

from siamkit.data import load_data
from siamkit.distances import get_distance
from siamkit.evaluation import embed_all, retrieval_metrics
from siamkit.training import TrainConfig, load_run, train


def main() -> None:
    torch.set_num_threads(1)
    for seed in (0, 1, 2):
        for fold in ((0, 1), (3, 4)):
            for rot in (0.0, 1.0):
                with tempfile.TemporaryDirectory() as tmp:
                    cfg = TrainConfig(
                        data="digits",
                        train_classes="0-4",
                        eval_classes="5-9",
                        val_classes=",".join(map(str, fold)),
                        val_fraction=0.0,
                        epochs=10,
                        seed=seed,
                        num_threads=1,
                        device="cpu",
                        out=f"{tmp}/run",
                        rotation=rot,
                    )
                    res = train(cfg, progress=False)
                    model = load_run(res.run_dir, "last").model
                val = load_data("digits", split="train").of_classes(list(fold))
                r = retrieval_metrics(
                    embed_all(model, val.x), val.y, distance=get_distance("cosine"), ks=(1,)
                )
                row = {
                    "data": "digits",
                    "rotation": rot,
                    "fold": list(fold),
                    "seed": seed,
                    "val_map_at_r": r.map_at_r,
                    "val_p_at_1": r.precision_at_1,
                }
                print(json.dumps(row), flush=True)
                with open("bench/results/select-rotation-digits.jsonl", "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
