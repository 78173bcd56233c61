"""A recipe change checked on scikit-learn's digits, on validation folds of the training digits
0-4 only (digits 5-9 are never loaded): the default image recipe (10 epochs as in `make demo`)
with each candidate's settings on top, three seeds, folds (0,1) and (3,4).

    python bench/select_digits.py      # --rotation 0 against 1 (about 3 minutes)
    python bench/select_digits.py --candidates '{}' '{"loss_options": {"base": 0.7}}' \\
        --results bench/results/select-base-digits.jsonl

Rows are appended to ``--results``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from typing import Any

import torch

from siamkit.data import load_data
from siamkit.distances import get_distance
from siamkit.evaluation import embed_all, retrieval_metrics
from siamkit.training import TrainConfig, load_run, train


def score(settings: dict[str, Any], seed: int, fold: tuple[int, int]) -> dict[str, Any]:
    """Validation MAP@R and P@1 on the held-out training digits ``fold``."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(
            data="digits", train_classes="0-4", eval_classes="5-9",
            val_classes=",".join(map(str, fold)), val_fraction=0.0, epochs=10, seed=seed,
            num_threads=1, device="cpu", out=f"{tmp}/run", **settings,
        )  # fmt: skip
        res = train(cfg, progress=False)
        model = load_run(res.run_dir, "last").model
    val = load_data("digits", split="train").of_classes(list(fold))
    r = retrieval_metrics(embed_all(model, val.x), val.y, distance=get_distance("cosine"), ks=(1,))
    return {"data": "digits", **settings, "fold": list(fold), "seed": seed,
            "val_map_at_r": r.map_at_r, "val_p_at_1": r.precision_at_1}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--candidates", nargs="+", default=['{"rotation": 0.0}', '{"rotation": 1.0}'],
        help="JSON objects of TrainConfig settings on top of the default recipe",
    )  # fmt: skip
    ap.add_argument("--results", default="bench/results/select-rotation-digits.jsonl")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    torch.set_num_threads(1)
    candidates = [json.loads(c) for c in args.candidates]
    for seed in args.seeds:
        for fold in ((0, 1), (3, 4)):
            for settings in candidates:
                row = score(settings, seed, fold)
                print(json.dumps(row), flush=True)
                with open(args.results, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
