"""The gallery at scale: enrolment throughput, identify latency (exact and HNSW) and HNSW recall,
beside raw FAISS on the very same index in the same run (issue 6).

Data: N unit-normalised 64-d vectors drawn from N/50 Gaussian clusters (each cluster is an
identity), as in ../shared/reference/faiss-1m-anchor.md; queries are gallery items plus small
noise. Every query is answered one at a time, through ``Gallery.identify_embeddings(q, k=1)``
(freshness check against the store, FAISS search, labels, threshold) and through the raw FAISS
index object the gallery holds (``index.search(q, 1)``), so the difference is the gallery's own
overhead. Recall@1 of HNSW is against the exact index's top item.

    python bench/gallery_scale.py [--items 1000000] [--queries 1000] [--ef-search 16 32 64]

Writes bench/results/gallery-scale.jsonl and the table between the gallery-scale markers at the
end of docs/benchmarks.md (``--docs`` / ``--results`` elsewhere for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from siamkit.run import DecisionRule
from siamkit.runtime.distances import pair_distances

ROOT = Path(__file__).resolve().parent.parent
MARKER = "gallery-scale"


class SyntheticEmbedder:
    """Stands in for a model: the bench enrolls precomputed embeddings, so only the identity
    (fingerprint, size, distance) and the threshold matter."""

    kind = "vector"
    distance = "cosine"
    larger_is_closer = False
    source = ""
    calibration = None
    prepare_image = None

    def __init__(self, dim: int, threshold: float) -> None:
        self.embedding_dim = dim
        self.input_shape = (dim,)
        self.fingerprint = f"synthetic-{dim}"
        self.threshold = threshold

    def embed(self, inputs: Any) -> np.ndarray:
        return np.asarray(inputs, dtype=np.float32)

    def load(self, sources: Any) -> Any:
        raise ValueError("the synthetic model reads no files; enroll embeddings")

    def pair_distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return pair_distances(a, b, self.distance)

    def decision_rule(self) -> DecisionRule:
        return DecisionRule(self.distance, self.threshold, False, None, "given")


def clustered(n: int, dim: int, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) unit vectors around ``clusters`` random centres, and each one's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    assign = rng.integers(0, clusters, size=n)
    x = np.empty((n, dim), np.float32)
    for i in range(0, n, 200_000):  # bounded temporaries
        a = assign[i : i + 200_000]
        block = centres[a] + rng.normal(scale=0.1, size=(len(a), dim)).astype(np.float32)
        x[i : i + 200_000] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return x, assign


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def time_each(fn: Any, queries: np.ndarray) -> tuple[list[float], list[int]]:
    """Per-query wall time and top-1 id, one query at a time (after 5 warm-up calls)."""
    for q in queries[:5]:
        fn(q[None, :])
    times, top = [], []
    for q in queries:
        t = time.perf_counter()
        top.append(fn(q[None, :]))
        times.append(time.perf_counter() - t)
    return times, top


def run(args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    from siamkit.index import Gallery, IndexConfig

    faiss.omp_set_num_threads(args.threads)
    t0 = time.perf_counter()
    clusters = args.clusters or max(args.items // 50, 1)
    x, assign = clustered(args.items, args.dim, clusters, args.seed)
    labels = [f"c{c}" for c in assign]
    rng = np.random.default_rng(args.seed + 1)
    pick = rng.integers(0, args.items, size=args.queries)
    q = x[pick] + rng.normal(scale=0.03, size=(args.queries, args.dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    work = Path(tempfile.mkdtemp(prefix="gallery-scale-", dir=args.work_dir))
    emb = SyntheticEmbedder(args.dim, threshold=0.2)
    out: dict[str, Any] = {"items": args.items, "dim": args.dim, "clusters": clusters}
    try:
        log(f"enrolling {args.items:,} items")
        gal = Gallery.create(work / "g", emb, index=IndexConfig(kind="flat"))
        t = time.perf_counter()
        gal.enroll_embeddings(x, labels)
        out["enroll_s"] = time.perf_counter() - t
        out["enroll_items_per_s"] = args.items / out["enroll_s"]
        t = time.perf_counter()
        gal.close()
        out["save_flat_s"] = time.perf_counter() - t
        del x

        exact = Gallery.open(work / "g", embedder=emb, index=IndexConfig(kind="flat"))
        index = exact.vector_index
        prepared = index.metric.prepare(q)
        _, truth = index.faiss.search(prepared, 1)
        truth_ids = index.ids[truth[:, 0]]
        n_exact = min(args.exact_queries, args.queries)

        def gal_top(g: Any) -> Any:
            return lambda v: g.identify_embeddings(v, k=1)[0].candidates[0].item_id

        def raw_top(ix: Any) -> Any:
            return lambda v: int(ix.faiss.search(v, 1)[1][0, 0])  # queries are unit vectors already

        log(f"exact queries ({n_exact})")
        gt, _ = time_each(gal_top(exact), q[:n_exact])
        rt, _ = time_each(raw_top(index), q[:n_exact])
        rows = [
            {
                "index": "flat (exact)",
                "recall": 1.0,
                "gallery": percentiles(gt),
                "raw": percentiles(rt),
            }
        ]
        exact.close()

        log("building HNSW from the store")
        t = time.perf_counter()
        config = IndexConfig(kind="hnsw", hnsw_m=args.hnsw_m, ef_construction=args.ef_construction)
        hnsw = Gallery.open(work / "g", embedder=emb, index=config)
        out["hnsw_build_s"] = time.perf_counter() - t  # read the store + build + save
        index = hnsw.vector_index
        for ef in args.ef_search:
            index.set_ef_search(ef)
            log(f"HNSW queries, efSearch={ef}")
            gt, gtop = time_each(gal_top(hnsw), q)
            rt, rtop = time_each(raw_top(index), q)
            recall = float(np.mean(np.array(gtop) == truth_ids))
            raw_recall = float(np.mean(index.ids[np.array(rtop)] == truth_ids))
            assert recall == raw_recall, "the gallery must return what its index returns"
            rows.append(
                {
                    "index": f"HNSW M={args.hnsw_m}, efConstruction={args.ef_construction}, efSearch={ef}",
                    "ef_search": ef,
                    "recall": recall,
                    "gallery": percentiles(gt),
                    "raw": percentiles(rt),
                }
            )
        hnsw.close()
        t = time.perf_counter()
        Gallery.open(work / "g", embedder=emb, index=config).close()
        out["hnsw_reopen_s"] = time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["rows"] = rows
    out["total_s"] = time.perf_counter() - t0
    out["queries"], out["exact_queries"] = args.queries, n_exact
    out["machine"] = f"{platform.machine()}, {args.threads} threads, faiss {faiss.__version__}"
    return out


def table(r: dict[str, Any], cmd: str) -> str:
    lines = [
        f"Command: `{cmd}` ({r['total_s'] / 60:.1f} min; {r['machine']}; {r['items']:,} items "
        f"in {r['clusters']:,} clusters, {r['dim']}-d, cosine; {r['queries']:,} queries, "
        f"{r['exact_queries']:,} of them timed on the exact index)",
        "",
        f"- enroll (SQLite + exact index, batches of 50,000): **{r['enroll_items_per_s']:,.0f} "
        f"items/s** ({r['enroll_s']:.1f} s)",
        f"- HNSW index built from the store (read, build, save): {r['hnsw_build_s']:.1f} s; "
        f"reopened from its saved file: {r['hnsw_reopen_s']:.1f} s",
        "",
        "| index | recall@1 vs exact | gallery p50 ms | gallery p99 ms | raw FAISS p50 ms "
        "| raw FAISS p99 ms | gallery / raw (p50) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        (g50, g99), (f50, f99) = row["gallery"], row["raw"]
        lines.append(
            f"| {row['index']} | {row['recall']:.3f} | {g50:.3f} | {g99:.3f} | {f50:.3f} | "
            f"{f99:.3f} | {g50 / f50:.2f} |"
        )
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    """Replace the gallery-scale section, or append it at the end (re-reading the file first)."""
    start, end = f"<!-- {MARKER}:start -->", f"<!-- {MARKER}:end -->"
    doc = path.read_text() if path.is_file() else "# Benchmarks\n"
    if start not in doc:
        doc = doc.rstrip("\n") + "\n\n" + SECTION + f"\n{start}\n{end}\n"
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}")


SECTION = """## Gallery at scale: enroll, identify, HNSW recall (issue 6)

`bench/gallery_scale.py`: unit-normalised 64-d vectors from Gaussian clusters (50 items per
cluster on average; a cluster is an identity), enrolled as precomputed embeddings into a
SQLite gallery; queries are gallery items plus noise, answered one at a time. "gallery" is
`Gallery.identify_embeddings(q, k=1)` (freshness check against the store, FAISS search,
label, threshold); "raw FAISS" is `search(q, 1)` on the same FAISS object in the same process.
Target: recall@1 >= 0.99 at a gallery p50 <= 2x raw FAISS's.
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--clusters", type=int, default=0, help="default: items / 50")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--exact-queries", type=int, default=200, help="timed on the exact index")
    p.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64])
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work-dir", default=None, help="where the temporary gallery lives")
    p.add_argument("--results", type=Path, default=ROOT / "bench/results/gallery-scale.jsonl")
    p.add_argument("--docs", type=Path, default=ROOT / "docs/benchmarks.md")
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    result = run(args)
    cmd = "python bench/gallery_scale.py " + " ".join(sys.argv[1:])
    result["command"] = cmd.strip()
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with open(args.results, "a") as f:
        f.write(json.dumps(result) + "\n")
    text = table(result, cmd.strip())
    print(text)
    write_docs(args.docs, text)


if __name__ == "__main__":
    main()
