"""Issue 22 development experiment: with two held-out classes the default operating point rests
on the impostor pairs of a single class pair. Would impostor pairs that join a held-out item
with an item of a class the selection model trained on (six more class pairs with five
training classes) give a FAR that holds better on unseen classes? On scikit-learn's digits
(train 0-4, unseen 5-9), a development set: no reported figure comes from it, and fmnist's
evaluation classes are not read.

For each seed: the default run (``siamkit train --data digits --seed S``: a selection run
holding out classes 3 and 4, the operating point for FAR 0.05, a refit on 0-4). On the
selection model, thresholds for FAR 0.05 from three sets of impostor pairs, each carried to the
refit model's scale as the default carries its own
(``siamkit.training.operating_point.match_scale`` on impostor pairs of the classes both models
trained on):

- ``held``: pairs of two held-out classes (what the default fits on);
- ``mixed``: one held-out item and one item of a trained class;
- ``both``: the two sets pooled.

Also the selection model's own FAR on 5-9 at its uncarried ``held`` threshold, which separates
the error of the carry from that of the class pair.

Printed: the FAR on digits 5-9 (20,000 balanced pairs of the refit model) at the run's recorded
threshold and at each of the three.

    python bench/operating_point_mixed.py --seeds 0 1 2 3 4     # about 2 minutes on 2 cores

Results: one JSON line per seed in bench/results/operating-point-mixed.jsonl (``--results``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from siamkit.data import parse_classes
from siamkit.evaluation.calibrated_run import pair_distances
from siamkit.models.embed import embed_all
from siamkit.run.checkpoint import load_run
from siamkit.training.operating_point import match_scale

sys.path.insert(0, str(Path(__file__).resolve().parent))
from operating_point_folds import default_run, far_at, seed_rows

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.05
PAIRS = 20_000


def threshold_for(impostor: np.ndarray, far: float) -> float:
    """The distance under which ``far`` of these impostor distances fall."""
    return float(np.quantile(impostor, far))


def mixed_impostors(
    model: torch.nn.Module, held: torch.Tensor, seen: torch.Tensor, n: int, seed: int
) -> np.ndarray:
    """Distances of ``n`` random pairs (one held-out item, one trained-class item)."""
    g = torch.Generator().manual_seed(seed)
    a = embed_all(model, held)  # type: ignore[arg-type]
    b = embed_all(model, seen)  # type: ignore[arg-type]
    i = torch.randint(len(a), (n,), generator=g)
    j = torch.randint(len(b), (n,), generator=g)
    out: np.ndarray = model.distance.pairwise(a[i], b[j]).double().numpy()  # type: ignore[union-attr,operator]
    return out


def one_seed(seed: int, work: Path) -> dict[str, object]:
    run_dir = work / f"default-s{seed}"
    final, train_part, unseen, s_ev, d_ev = default_run(seed, run_dir)
    selection = load_run(run_dir / "selection").model
    point = json.loads((run_dir / "metrics.json").read_text())["operating_point"]
    s_sel, d_sel = pair_distances(embed_all(selection, unseen.x), unseen.y, PAIRS, 123,
                                  selection.distance)  # fmt: skip
    held = train_part.of_classes(parse_classes("3,4", train_part.class_names))
    seen = train_part.of_classes(parse_classes("0-2", train_part.class_names))
    same, d_held = pair_distances(embed_all(selection, held.x), held.y, PAIRS, seed,
                                  selection.distance)  # fmt: skip
    d_mixed = mixed_impostors(selection, held.x, seen.x, PAIRS // 2, seed)
    s2, before = pair_distances(embed_all(selection, seen.x), seen.y, PAIRS, seed,
                                selection.distance)  # fmt: skip
    _, after = pair_distances(embed_all(final, seen.x), seen.y, PAIRS, seed, final.distance)
    carry = lambda v: match_scale(v, before[s2 == 0], after[s2 == 0])  # noqa: E731
    sets = {
        "held": carry(d_held[same == 0]),
        "mixed": carry(d_mixed),
        "both": carry(np.concatenate([d_held[same == 0], d_mixed])),
    }
    return {
        "seed": seed,
        "target_far": TARGET,
        "far_recorded_threshold": far_at(s_ev, d_ev, point["threshold"]),
        "promised_far": point["promised_far"],
        **{f"far_{k}": far_at(s_ev, d_ev, threshold_for(v, TARGET)) for k, v in sets.items()},
        # the selection model itself at its own (uncarried) threshold: no carrying error
        "far_selection_own": far_at(s_sel, d_sel, threshold_for(d_held[same == 0], TARGET)),
    }


def main(argv: list[str] | None = None) -> None:
    rows = seed_rows(one_seed, ROOT / "bench/results/operating-point-mixed.jsonl", argv, __doc__)
    print(
        "| seed | FAR at the recorded threshold | held pairs | mixed pairs | both | selection's own |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['far_recorded_threshold']:.3f} | {r['far_held']:.3f} | "
              f"{r['far_mixed']:.3f} | {r['far_both']:.3f} | {r['far_selection_own']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
