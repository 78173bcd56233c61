"""Edge deployment cost: PyTorch eager vs ONNX fp32 vs ONNX int8 on the same trained encoder.

For one run directory (the fmnist-openset reference CNN by default): batch-1 latency (p50, p99)
and batch-64 throughput on a fixed number of CPU threads, model size on disk, and MAP@R /
ROC-AUC on the run's evaluation classes for each variant. The ONNX files are made with
``siamkit.export.export_run`` (so they pass its parity check) and run with
``siamkit.runtime.OnnxEncoder``; PyTorch runs the loaded run's ``model.embed`` under
``inference_mode`` (channels-last, as siamkit loads image runs).

    siamkit train --data fashion-mnist --train-classes 0-4 --eval-classes 5-9 --epochs 5 \\
        --num-threads 2 --out runs/fmnist-onnx
    python bench/onnx_latency.py --run runs/fmnist-onnx --threads 2 --minilm-zero-shot
    python bench/onnx_latency.py --smoke --results /tmp/r.jsonl   # tiny digits run, few iterations

Results: one JSON line per variant in bench/results/onnx-latency.jsonl (``--results``) and a
markdown table on stdout (also written beside the results as ``.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _timings(fn: Callable[[], object], iters: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(embed: Callable[[Any], object], x: Any, iters: int, batch: int) -> dict[str, float]:
    """Batch-1 latency percentiles (ms) over ``iters`` calls and batch-``batch`` items/s
    (``x``: an array of items or a list of texts)."""
    rng = np.random.default_rng(0)
    singles = [x[i : i + 1] for i in rng.integers(0, len(x), iters)]
    it = iter(singles)
    lat = _timings(lambda: embed(next(it)), iters - 10, 10)
    reps_needed = batch // len(x) + 1
    big = x[:batch] if len(x) >= batch else (x * reps_needed if isinstance(x, list) else
                                              np.concatenate([x] * reps_needed))[:batch]  # fmt: skip
    reps = max(5, min(30, iters // 10))
    t = _timings(lambda: embed(big), reps, 3)
    return {
        "p50_ms": 1000 * _percentile(lat, 50),
        "p99_ms": 1000 * _percentile(lat, 99),
        f"batch{batch}_items_s": batch / statistics.median(t),
    }


def bench_run(
    run_dir: Path, work: Path, threads: int, iters: int, batch: int
) -> list[dict[str, Any]]:
    """Every variant of one run: export, time, size, quality."""
    import torch

    from siamkit.data import load_data, parse_classes
    from siamkit.export import export_run
    from siamkit.run.config import source_options
    from siamkit.runtime import OnnxEncoder
    from siamkit.training import load_run

    torch.set_num_threads(threads)
    fp32 = export_run(run_dir, work / "fp32.onnx", max_metric_drop=1.0)  # 1.0: report only
    int8 = export_run(run_dir, work / "int8.onnx", quantize="int8")
    run = load_run(run_dir)
    data = load_data(run.config.data, source_options(run.config), split="test")
    items = data.of_classes(parse_classes(run.config.eval_classes, data.class_names)).x
    x: Any = items.numpy()
    if run.spec.kind == "text":  # both sides start from strings: tokenising is part of the cost
        from siamkit.models.text_tokenizer import load_tokenizer

        tok = load_tokenizer(run.spec.tokenizer)
        x = [tok.decode(row) for row in items]

    @torch.inference_mode()
    def torch_embed(batch_x: Any) -> object:
        if run.spec.kind == "text":
            xb = tok.encode(batch_x, run.spec.max_length or 128)
        else:
            xb = torch.from_numpy(batch_x)
        if xb.dim() == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        return run.model.embed(xb)

    assert fp32.metric_change is not None and int8.metric_change is not None
    ref_map, ref_auc = fp32.metric_change.reference_map_at_r, fp32.metric_change.reference_roc_auc
    torch_size = (run_dir / "best" / "model.safetensors").stat().st_size
    rows = []
    for name in ("pytorch-eager", "onnx-fp32", "onnx-int8"):
        if name == "pytorch-eager":
            fn, size, map_r, auc = torch_embed, torch_size, ref_map, ref_auc
        else:  # one session at a time, so no idle onnxruntime pool shares the cores
            report = fp32 if name == "onnx-fp32" else int8
            change = report.metric_change
            assert change is not None
            fn = OnnxEncoder(report.path, num_threads=threads).embed
            size, map_r, auc = (
                report.size_bytes,
                change.candidate_map_at_r,
                change.candidate_roc_auc,
            )
        row: dict[str, Any] = {
            "run": str(run_dir),
            "encoder": run.spec.encoder,
            "variant": name,
            "threads": threads,
            "size_mb": size / 1e6,
            "map_at_r": map_r,
            "map_at_r_change_pct": 100 * (map_r - ref_map) / ref_map,
            "roc_auc": auc,
            "eval_items": len(x),
            **measure(fn, x, iters, batch),
        }
        del fn
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    return rows


def table(rows: list[dict[str, Any]], batch: int) -> str:
    """Markdown table of the rows, with throughput relative to PyTorch eager."""
    base = {r["run"]: r[f"batch{batch}_items_s"] for r in rows if r["variant"] == "pytorch-eager"}
    lines = [
        f"| encoder | variant | batch-1 p50 ms | batch-1 p99 ms | batch-{batch} items/s | "
        "vs eager | size MB | MAP@R | MAP@R change | ROC-AUC |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        thr = r[f"batch{batch}_items_s"]
        lines.append(
            f"| {r['encoder']} | {r['variant']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{thr:,.0f} | {thr / base[r['run']]:.2f}x | {r['size_mb']:.3f} | "
            f"{r['map_at_r']:.4f} | {r['map_at_r_change_pct']:+.2f}% | {r['roc_auc']:.4f} |"
        )
    return "\n".join(lines)


def _smoke_run(work: Path) -> Path:
    from siamkit.training import TrainConfig, train

    out = work / "digits"
    cfg = TrainConfig(data="digits", epochs=1, batch_size=64, widths=[8, 16], embedding_dim=16,
                      val_pairs=200, out=str(out), num_threads=1)  # fmt: skip
    train(cfg, progress=False)
    return out


def _zero_shot_minilm_run(work: Path) -> Path:
    """A run directory holding pretrained all-MiniLM-L6-v2 as is (no fine-tuning), evaluated
    on 500 held-out WordNet synsets (one class per synset: its definition and lemmas)."""
    from siamkit.models.spec import ModelSpec, build_model
    from siamkit.run.checkpoint import save_checkpoint
    from siamkit.training import TrainConfig

    out = work / "minilm-zero-shot"
    cfg = TrainConfig(data="wordnet", encoder="minilm", embedding_dim=384, train_classes="0-999",
                      eval_classes="10000-10499", distance="cosine", max_length=64,
                      val_classes="none", val_fraction=0.0, out=str(out))  # fmt: skip
    spec = ModelSpec(encoder="minilm", input_shape=[64], kind="text", embedding_dim=384,
                     distance="cosine", tokenizer="minilm", max_length=64)  # fmt: skip
    out.mkdir(parents=True)
    save_checkpoint(out / "best", build_model(spec), cfg, spec, metrics={})
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", type=Path, action="append", help="Run directory (repeatable).")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for every variant.")
    p.add_argument("--iters", type=int, default=500, help="Batch-1 calls timed per variant.")
    p.add_argument("--batch", type=int, default=64, help="Batch size for throughput.")
    p.add_argument("--results", type=Path, default=ROOT / "bench/results/onnx-latency.jsonl")
    p.add_argument("--smoke", action="store_true", help="Tiny digits run, 40 iterations.")
    p.add_argument("--minilm-zero-shot", action="store_true",
                   help="Add pretrained MiniLM (WordNet synsets 10000-10499) as a run.")  # fmt: skip
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="onnx-bench-") as tmp:
        work = Path(tmp)
        runs = args.run or []
        if args.smoke:
            runs, args.iters = [_smoke_run(work)], 40
        if args.minilm_zero_shot:
            runs.append(_zero_shot_minilm_run(work))
        if not runs:
            p.error("give --run RUN_DIR (or --smoke)")
        rows = []
        for i, run_dir in enumerate(runs):
            sub = work / f"export-{i}"
            sub.mkdir()
            rows += bench_run(run_dir, sub, args.threads, args.iters, args.batch)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "load_avg_1min": os.getloadavg()[0]}  # fmt: skip
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("w") as f:
        for r in rows:
            f.write(json.dumps({**r, **meta}) + "\n")
    md = table(rows, args.batch)
    args.results.with_suffix(".md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
