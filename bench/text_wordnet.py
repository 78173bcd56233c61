"""WordNet text benchmark: definition -> lemma retrieval and synonym verification on held-out
synsets, four contenders side by side in one run, plus encode throughput.

Contenders:
  tfidf        character 3-5-gram TF-IDF, cosine (scikit-learn): the floor
  minilm       all-MiniLM-L6-v2 zero-shot (siamkit's minilm encoder)
  st-mnrl      MiniLM fine-tuned by sentence-transformers (MultipleNegativesRankingLoss, scale 20)
  siamkit      MiniLM fine-tuned by `siamkit.training.train` (--siamkit-loss, by default
               multiple_negatives_ranking: each definition against the batch's lemmas, τ 0.05)

The two fine-tuned contenders train on the same (definition, lemma) pairs of training synsets
(one random lemma per synset, so no definition repeats), the same batch size, number of steps,
learning rate and max length; their wall time is the whole fine-tuning call. Held-out synsets
are never trained on (split by synset hash, `siamkit.data.wordnet.split_synsets`).

Metrics on the held-out synsets: each definition is a query against every lemma of the
held-out synsets; MRR (of the first correct lemma), R@1 and R@10 (share of queries with a
correct lemma in the top k); synonym AUC: ROC-AUC of cosine on lemma pairs of one synset vs
lemmas of unrelated synsets. Throughput: sentences/s encoding the same N definitions with
pretrained MiniLM, sentence-transformers `encode` vs siamkit `TextEmbedder.embed`, same batch
size and max length, best of R alternating repeats.

With --int8, siamkit's fine-tuned run is also exported (`siamkit.export.export_run`, int8
dynamic) and the int8 ONNX model, run by `siamkit.runtime.OnnxEncoder` alone, is evaluated on
the same held-out synsets: the MRR change int8 costs a fine-tuned MiniLM.

Run: python bench/text_wordnet.py            (about 5 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def retrieval_metrics(
    scores: np.ndarray, relevant: list[set[int]], k: int = 10
) -> dict[str, float]:
    """MRR, R@1, R@k of queries ``(Q, C)`` scores (bigger = closer) with relevant candidates."""
    rr, r1, rk = [], [], []
    for q, rel in enumerate(relevant):
        order = np.argsort(-scores[q], kind="stable")
        ranks = [int(np.nonzero(order == c)[0][0]) + 1 for c in rel]
        best = min(ranks)
        rr.append(1.0 / best)
        r1.append(float(best <= 1))
        rk.append(float(best <= k))
    return {"mrr": float(np.mean(rr)), "r@1": float(np.mean(r1)), f"r@{k}": float(np.mean(rk))}


class Clock:
    """Wall and process CPU seconds of a phase, with the machine's load average around it
    (the CPU time is the fairer figure on a shared machine)."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.load = (
            time.perf_counter(),
            time.process_time(),
            os.getloadavg()[0],
        )

    def stop(self) -> dict[str, float]:
        return {
            "wall": time.perf_counter() - self.wall,
            "cpu": time.process_time() - self.cpu,
            "load_before": self.load,
            "load_after": os.getloadavg()[0],
        }


def _normalize(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def evaluate(
    embed: Any, queries: list[str], candidates: list[str], relevant: list[set[int]], syn: list
) -> dict[str, float]:
    """Retrieval and synonym AUC for an ``embed(list[str]) -> (N, D)`` function."""
    from sklearn.metrics import roc_auc_score

    q = _normalize(np.asarray(embed(queries), dtype=np.float64))
    c = _normalize(np.asarray(embed(candidates), dtype=np.float64))
    out = retrieval_metrics(q @ c.T, relevant)
    a = _normalize(np.asarray(embed([p.text_a for p in syn]), dtype=np.float64))
    b = _normalize(np.asarray(embed([p.text_b for p in syn]), dtype=np.float64))
    out["synonym_auc"] = float(roc_auc_score([p.score for p in syn], (a * b).sum(1)))
    return out


def build_task(args: argparse.Namespace) -> dict[str, Any]:
    from siamkit.data.wordnet import read_wordnet, split_synsets, synonym_pairs

    synsets = read_wordnet(args.wordnet, pos=args.pos)
    train, test = split_synsets(synsets, eval_fraction=0.1, seed=args.seed)
    rng = random.Random(args.seed)
    rng.shuffle(train)
    rng.shuffle(test)
    n_pairs = args.steps * args.batch_size
    if len(train) < n_pairs + 2:
        raise SystemExit(f"{len(train)} training synsets; {n_pairs + 2} needed")
    pairs = [(s.definition, rng.choice(s.lemmas)) for s in train[:n_pairs]]
    if args.validate:  # training-side synsets never in a training pair: recipe choice only
        start = n_pairs + 2
        if len(train) < start + args.eval_synsets:
            raise SystemExit(f"{len(train)} training synsets; {start + args.eval_synsets} needed")
        held = pairs_held = train[start : start + args.eval_synsets]
    else:
        held = pairs_held = test[: args.eval_synsets]
    candidates = sorted({lemma for s in held for lemma in s.lemmas})
    index = {lemma: i for i, lemma in enumerate(candidates)}
    return {
        "pairs": pairs,
        "spare": [(s.definition, s.lemmas[0]) for s in train[n_pairs : n_pairs + 2]],
        "queries": [s.definition for s in held],
        "candidates": candidates,
        "relevant": [{index[lemma] for lemma in s.lemmas} for s in held],
        "synonyms": synonym_pairs(pairs_held, negatives_per_positive=1, seed=args.seed),
        "throughput_texts": [s.definition for s in (held if args.validate else test)][
            : args.throughput
        ],
        "n_train_synsets": len(train),
        "n_test_synsets": len(test),
    }


def tfidf(task: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vec.fit(task["queries"] + task["candidates"])
    return lambda texts: vec.transform(texts).toarray()


def st_finetune(
    task: dict[str, Any], args: argparse.Namespace, folder: str
) -> tuple[Any, dict[str, float]]:
    import torch
    from sentence_transformers import InputExample, SentenceTransformer
    from sentence_transformers.sentence_transformer import losses
    from torch.utils.data import DataLoader

    torch.manual_seed(args.seed)
    clock = Clock()
    model = SentenceTransformer(folder, device="cpu")
    model.max_seq_length = args.max_length
    examples = [InputExample(texts=[a, b]) for a, b in task["pairs"]]
    loader = DataLoader(examples, shuffle=True, batch_size=args.batch_size)  # type: ignore[arg-type]
    loss = losses.MultipleNegativesRankingLoss(model)  # scale 20 = temperature 0.05
    model.old_fit(
        train_objectives=[(loader, loss)],
        epochs=1,
        warmup_steps=0,
        scheduler="constantlr",
        optimizer_params={"lr": args.lr},
        weight_decay=0.01,
        show_progress_bar=False,
    )
    timing = clock.stop()
    model.eval()
    return (lambda t: model.encode(t, batch_size=64, convert_to_numpy=True)), timing


def siamkit_finetune(
    task: dict[str, Any], args: argparse.Namespace, tmp: Path
) -> tuple[Any, dict[str, float]]:
    from siamkit.run.text import load_text_embedder
    from siamkit.training import TrainConfig, train

    # the two spare rows are the run's evaluation classes: never trained on, read only by the
    # int8 export's own metric check (the benchmark's figures come from the held-out synsets)
    rows = [*task["pairs"], *task["spare"]]
    data = tmp / "pairs.jsonl"
    data.write_text(
        "".join(json.dumps({"text_a": a, "text_b": b, "label": 1}) + "\n" for a, b in rows)
    )
    n = len(task["pairs"])
    cfg = TrainConfig(
        data=f"text-pairs:{data}",
        encoder="minilm",
        loss=args.siamkit_loss,
        temperature=args.temperature,
        distance="cosine",
        train_classes=f"0-{n - 1}",
        eval_classes=f"{n}-{n + 1}",
        val_classes="none",
        val_fraction=0.0,
        batch_size=2 * args.batch_size,  # P pairs x K = 2 texts
        classes_per_batch=args.batch_size,
        optimizer="adamw",
        lr=args.siamkit_lr or args.lr,
        max_grad_norm=args.siamkit_clip,
        dropout=args.siamkit_dropout,
        weight_decay=0.01,
        max_length=args.max_length,
        epochs=1,
        seed=args.seed,
        num_threads=args.threads,
        out=str(tmp / "run"),
    )
    clock = Clock()
    train(cfg, progress=False, overwrite=True)
    timing = clock.stop()
    emb = load_text_embedder(str(tmp / "run"), batch_size=64)
    return emb.embed, timing


def int8_embed(tmp: Path, args: argparse.Namespace) -> Any:
    """siamkit's fine-tuned run (in ``tmp/run``) exported to int8 ONNX, as an embed function."""
    from siamkit.export import export_run
    from siamkit.runtime import OnnxEncoder

    export_run(tmp / "run", tmp / "int8.onnx", quantize="int8")
    enc = OnnxEncoder(tmp / "int8.onnx", num_threads=args.threads, batch_size=64)
    return enc.embed


def throughput(texts: list[str], args: argparse.Namespace, folder: str) -> dict[str, float]:
    from sentence_transformers import SentenceTransformer

    from siamkit.run.text import TextEmbedder

    st = SentenceTransformer(folder, device="cpu")
    st.max_seq_length = args.max_length_encode
    ours = TextEmbedder.pretrained("minilm", max_length=args.max_length_encode)
    ours.batch_size = args.encode_batch
    st.encode(texts[:64], batch_size=args.encode_batch)  # warm-up both
    ours.embed(texts[:64])
    best = {"st": float("inf"), "siamkit": float("inf")}
    diff = 0.0
    for _ in range(args.repeats):
        t = time.perf_counter()
        a = st.encode(texts, batch_size=args.encode_batch, convert_to_numpy=True)
        best["st"] = min(best["st"], time.perf_counter() - t)
        t = time.perf_counter()
        b = ours.embed(texts)
        best["siamkit"] = min(best["siamkit"], time.perf_counter() - t)
        diff = max(diff, float(np.abs(a - b).max()))
    return {
        "sentences": len(texts),
        "st_per_s": len(texts) / best["st"],
        "siamkit_per_s": len(texts) / best["siamkit"],
        "ratio": best["st"] / best["siamkit"],
        "max_abs_diff": diff,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--wordnet", default="/usr/share/wordnet")
    p.add_argument("--pos", default="n", help="parts of speech read (n, v, a, r)")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--eval-synsets", type=int, default=1000)
    p.add_argument("--throughput", type=int, default=2000)
    p.add_argument("--max-length-encode", type=int, default=128)
    p.add_argument("--encode-batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--order", default="st,siamkit", help="which fine-tune runs first")
    p.add_argument("--throughput-only", action="store_true", help="only the encode timing")
    p.add_argument("--int8", action="store_true", help="also evaluate siamkit's run as int8 ONNX")
    p.add_argument(
        "--temperature", type=float, default=0.05, help="siamkit's τ (0.05 = ST's scale 20)"
    )
    p.add_argument("--siamkit-lr", type=float, default=None, help="siamkit's lr (default: --lr)")
    p.add_argument(
        "--siamkit-loss",
        default="multiple_negatives_ranking",
        help="siamkit's loss: multiple_negatives_ranking (anchor → responses, as sentence-"
        "transformers), multiple_negatives_symmetric_ranking, or nt_xent (every text against "
        "every other)",
    )
    p.add_argument(
        "--siamkit-dropout",
        type=float,
        default=None,
        help="siamkit's dropout while fine-tuning (default: the model's own, 0.1)",
    )
    p.add_argument(
        "--siamkit-clip", type=float, default=None, help="siamkit's max gradient norm (off)"
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="score on training-side synsets that no training pair uses (recipe choice); the "
        "held-out synsets are not read",
    )
    p.add_argument("--out", default="bench/results/text-wordnet.jsonl")
    args = p.parse_args(argv)

    import torch

    from siamkit.models.text_tokenizer import minilm_dir
    from siamkit.run.text import TextEmbedder

    torch.set_num_threads(args.threads)
    folder = str(minilm_dir())
    task = build_task(args)
    if args.throughput_only:
        speed = throughput(task["throughput_texts"], args, folder)
        print(json.dumps(speed), flush=True)
        return {"throughput": speed}
    ev = (task["queries"], task["candidates"], task["relevant"], task["synonyms"])
    rows: list[dict[str, Any]] = []

    def record(name: str, embed: Any, timing: dict[str, float] | None) -> None:
        row = {"contender": name, **evaluate(embed, *ev)}
        if timing is not None:
            row |= {"train_seconds": timing["wall"], "train_cpu_seconds": timing["cpu"],
                    "load": [timing["load_before"], timing["load_after"]]}  # fmt: skip
        else:
            row["train_seconds"] = None
        rows.append(row)
        print(json.dumps(row), flush=True)

    record("tfidf", tfidf(task), None)
    zero = TextEmbedder.pretrained("minilm", max_length=args.max_length)
    record("minilm zero-shot", zero.embed, None)
    tuned: dict[str, tuple[Any, dict[str, float]]] = {}
    int8: Any = None
    for name in args.order.split(","):  # both fine-tune first, then both are evaluated
        if name == "st":
            tuned[name] = st_finetune(task, args, folder)
        elif name == "siamkit":
            tmp = Path(tempfile.mkdtemp())
            tuned[name] = siamkit_finetune(task, args, tmp)
            if args.int8:
                int8 = int8_embed(tmp, args)
            shutil.rmtree(tmp, ignore_errors=True)  # the embedders hold their models in memory
        else:
            raise SystemExit(f"--order takes st and siamkit, got {name!r}")
    if "st" in tuned:
        record("minilm + sentence-transformers MNRL", *tuned["st"])
    if "siamkit" in tuned:
        record(f"minilm + siamkit {args.siamkit_loss}", *tuned["siamkit"])
    if int8 is not None:
        record("the same, exported to ONNX int8 (OnnxEncoder)", int8, None)
    speed = throughput(task["throughput_texts"], args, folder)
    print(json.dumps(speed), flush=True)
    result = {
        "command": "python bench/text_wordnet.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "train_pairs": len(task["pairs"]),
        "train_synsets": task["n_train_synsets"],
        "held_out_synsets": task["n_test_synsets"],
        "queries": len(task["queries"]),
        "candidates": len(task["candidates"]),
        "synonym_pairs": len(task["synonyms"]),
        "rows": rows,
        "throughput": speed,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(result) + "\n")
    print(markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| contender | MRR | R@1 | R@10 | synonym AUC | fine-tune wall / CPU time | load avg |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        t, load = "—", "—"
        if r["train_seconds"] is not None:
            t = f"{r['train_seconds']:.0f} s / {r['train_cpu_seconds']:.0f} s"
            load = f"{r['load'][0]:.1f} → {r['load'][1]:.1f}"
        lines.append(
            f"| {r['contender']} | {r['mrr']:.3f} | {r['r@1']:.3f} | {r['r@10']:.3f} | "
            f"{r['synonym_auc']:.3f} | {t} | {load} |"
        )
    s = result["throughput"]
    lines += [
        "",
        "| encode (pretrained MiniLM) | sentences/s |",
        "|---|---|",
        f"| sentence-transformers `encode` | {s['st_per_s']:,.0f} |",
        f"| siamkit `TextEmbedder.embed` | {s['siamkit_per_s']:,.0f} ({s['ratio']:.2f}×) |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
