"""Export a trained run to ONNX, then embed and compare images with onnxruntime alone.

    python examples/export_and_run_without_torch.py [--run runs/example-digits]

The second half (``compare``) imports only numpy, Pillow and onnxruntime: it is what an edge
device runs. Needs the onnx extra (pip install 'siamkit[onnx]').
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

COMPARE = """
import sys
from siamkit.runtime import OnnxEncoder

enc = OnnxEncoder(sys.argv[1], num_threads=1)
emb = enc.embed_files(sys.argv[2:4])  # (2, D)
d = float(enc.pair_distances(emb[:1], emb[1:])[0])
same = bool(enc.same(emb[:1], emb[1:])[0])
torch_loaded = "torch" in sys.modules
print(f"distance {d:.4f}, threshold {enc.threshold:.4f}: {'same' if same else 'different'}")
print(f"torch imported: {torch_loaded}")
sys.exit(1 if torch_loaded else 0)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/example-digits", help="run directory")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    from siamkit import TrainConfig, train  # the export side uses torch
    from siamkit.export import export_run

    sys.path.insert(0, str(Path(__file__).parent))
    from verify_two_images import sample_images

    run = Path(args.run)
    if not (run / "best").is_dir():
        train(
            TrainConfig(data="digits", train_classes="0-4", eval_classes="5-9",
                        epochs=args.epochs, out=str(run)),
            progress=False,
        )  # fmt: skip
    onnx = run / "model.onnx"
    report = export_run(run, onnx)
    size, cosine = report.size_bytes / 1e6, report.parity.min_cosine
    print(f"exported {onnx} ({size:.2f} MB); smallest cosine to torch {cosine:.6f}")
    a, b = sample_images(run / "examples")
    # the device side: a fresh interpreter that never imports torch
    done = subprocess.run([sys.executable, "-c", COMPARE, str(onnx), str(a), str(b)], check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
