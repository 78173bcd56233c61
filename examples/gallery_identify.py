"""Build a gallery of known identities and identify new images against it.

    python examples/gallery_identify.py [--run runs/example-digits] [--gallery galleries/example]

Enrolls five images of each unseen digit (5-9) as five identities, then identifies other images
of those digits: which known identity is each most like, and is it close enough to be known?
Needs the faiss extra (pip install 'siamkit[faiss]').
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from siamkit import TrainConfig, train
from siamkit.index import Gallery


def write_digits(folder: Path, per_class: int, skip: int) -> list[tuple[Path, str]]:
    """``per_class`` images of each digit 5-9 (after the first ``skip``), one folder per digit."""
    digits = load_digits()
    written = []
    for label in range(5, 10):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        for i in np.flatnonzero(digits.target == label)[skip : skip + per_class]:
            path = folder / str(label) / f"{i}.png"
            Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).save(path)
            written.append((path, str(label)))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/example-digits", help="run directory")
    parser.add_argument("--gallery", default="galleries/example", help="gallery directory")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    run, where = Path(args.run), Path(args.gallery)
    if not (run / "best").is_dir():
        train(
            TrainConfig(data="digits", train_classes="0-4", eval_classes="5-9",
                        epochs=args.epochs, out=str(run)),
            progress=False,
        )  # fmt: skip
    shutil.rmtree(where, ignore_errors=True)
    write_digits(where.parent / "example-known", per_class=5, skip=0)
    queries = write_digits(where.parent / "example-queries", per_class=4, skip=5)
    with Gallery.create(where, run) as gallery:
        gallery.enroll([str(where.parent / "example-known")])  # one subfolder per identity
        hits = gallery.identify([str(p) for p, _ in queries])
    right = sum(h.label == label for h, (_, label) in zip(hits, queries, strict=True))
    for h, (path, label) in list(zip(hits, queries, strict=True))[:5]:
        print(
            f"{path.name}: true {label}, identified {h.label} ({'known' if h.label else 'unknown'})"
        )
    print(f"identified {right} of {len(queries)} correctly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
