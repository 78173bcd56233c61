"""Are these two images the same identity? Train a small model on digits 0-4, then verify.

    python examples/verify_two_images.py a.png b.png [--run runs/example-digits]

Without image paths it writes two digit images of the unseen classes 5-9 and compares them.
The decision uses the run's own rule: its operating point (fitted on held-out training
classes), else its validation threshold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from siamkit import TrainConfig, train
from siamkit.run import load_embedder


def sample_images(folder: Path) -> tuple[Path, Path]:
    """Two images of the digit 7 (a class the model never trains on)."""
    digits = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, i in enumerate(np.flatnonzero(digits.target == 7)[:2]):
        path = folder / f"seven_{n}.png"
        Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).save(path)
        paths.append(path)
    return paths[0], paths[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", help="two image files (default: two sevens)")
    parser.add_argument("--run", default="runs/example-digits", help="run directory")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    run = Path(args.run)
    if not (run / "best").is_dir():
        train(
            TrainConfig(data="digits", train_classes="0-4", eval_classes="5-9",
                        epochs=args.epochs, out=str(run)),
            progress=False,
        )  # fmt: skip
    a, b = (Path(p) for p in args.images) if args.images else sample_images(run / "examples")
    model = load_embedder(run)
    x, _ = model.load([str(a), str(b)])
    e = model.embed(x)  # (2, D)
    d = model.pair_distances(e[:1], e[1:])
    rule = model.decision_rule()
    if rule is None:
        print("the run has no threshold; calibrate it with `siamkit calibrate`", file=sys.stderr)
        return 2
    verdict = "same" if rule.same(d)[0] else "different"
    print(f"{a.name} vs {b.name}: distance {d[0]:.4f}, threshold {rule.threshold:.4f}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
