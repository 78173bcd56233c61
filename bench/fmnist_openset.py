"""fmnist-openset: siamkit against pytorch-metric-learning on identical work, side by side.

Protocol (issue 4): Fashion-MNIST train split classes 0-4 for training, test split classes 5-9
(never seen) for evaluation; the reference encoder (Conv 32-64-128, BN, ReLU, Linear 64,
L2-normalised); Adam 1e-3, batch 128, 5 epochs, 2 threads. Every contender runs in its own
subprocess (so peak RSS is its own) and all of them in one invocation of this script.

The siamkit rows (issue 22) run what the README shows, nothing else: ``siamkit train`` then
``siamkit evaluate RUN --json``, as subprocesses of the real CLI (``python -m siamkit``) with
``OMP_NUM_THREADS=2`` in their environment; the table lists the exact commands. Their figures
are the evaluate record's (the run's own distance, checkpoint and pairs), their train img/s the
median of ``images_per_second`` over ``RUN/metrics.json["history"]``, their peak RSS the larger
of the two commands' peaks (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in the row's process, whose
only children they are); they have no embed img/s. The PML rows, the floor and the bare loop run
in this file, on PyTorch and PML's own code, scored by :func:`evaluate`.

    python bench/fmnist_openset.py                      # 3 seeds, 5 epochs, rewrites the docs table
    python bench/fmnist_openset.py --smoke --data-dir D # 1 epoch on whatever small IDX files D holds

Results: one JSON line per (contender, seed) in bench/results/fmnist-openset.jsonl, and the
median table in docs/benchmarks.md (between the fmnist-openset markers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported where used: a CLI row's process only starts the CLI
    from torch import Tensor, nn

ROOT = Path(__file__).resolve().parent.parent
MEAN, STD = 0.2860, 0.3530
TRAIN_CLASSES, EVAL_CLASSES = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
BATCH, LR = 128, 1e-3

# The siamkit rows: extra `siamkit train` flags on top of CLI_TRAIN. siamkit_default is the
# README's command as it stands, so it runs siamkit's default image recipe (multi-similarity +
# 0.3 uniformity + rotation prediction, chosen on the training classes only: README "Default
# loss", docs/benchmarks.md) and its default validation, refit and checkpoint.
ALL_LAST = ["--val-classes", "none", "--val-fraction", "0"]  # all training classes, last epoch
CLI_ROWS: dict[str, list[str]] = {
    "siamkit_default": [],
    "siamkit_all_last": ALL_LAST,
    "siamkit_no_refit": ["--no-refit"],
    "siamkit_contrastive": ["--loss", "contrastive", "--margin", "1", *ALL_LAST],
    "siamkit_triplet": ["--loss", "triplet", "--margin", "1", *ALL_LAST],
}

# name -> what it is (shown in the table)
CONTENDERS: dict[str, str] = {
    "floor": "untrained encoder (floor)",
    "bare_loop": "bare PyTorch loop, all-pairs contrastive (speed limit)",
    "pml_triplet_semihard": "PML TripletMarginLoss(0.2) + semihard miner",
    "pml_contrastive_pairmargin": "PML ContrastiveLoss(0,1) + PairMarginMiner(0.2,0.8)",
    "pml_contrastive": "PML ContrastiveLoss(0,1), no miner",
    "siamkit_default": "siamkit CLI, defaults (refit on all training classes)",
    "siamkit_all_last": "siamkit CLI, all training classes, last epoch",
    "siamkit_no_refit": "siamkit CLI, --no-refit (a training class held out, best epoch)",
    "siamkit_contrastive": "siamkit CLI, contrastive m=1, all training classes, last epoch",
    "siamkit_triplet": "siamkit CLI, triplet m=1, all training classes, last epoch",
}
DEFAULT_CONTENDERS = [n for n in CONTENDERS if n != "siamkit_triplet"]  # triplet: on request


def reference() -> nn.Module:
    """The protocol's encoder: siamkit's ConvEncoder defaults, L2-normalised, fixed inputs."""
    import torch.nn.functional as F
    from torch import nn

    from siamkit.models import ConvEncoder

    class Reference(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = ConvEncoder(1, 64, (32, 64, 128))

        def forward(self, x: Tensor) -> Tensor:
            return F.normalize(self.net((x - MEAN) / STD), dim=1)

    return Reference()


def load(data_dir: Path) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    from siamkit.data import load_data

    train = load_data(f"fashion-mnist:{data_dir}", split="train").of_classes(TRAIN_CLASSES)
    test = load_data(f"fashion-mnist:{data_dir}", split="test").of_classes(EVAL_CLASSES)
    return train.x, train.y, test.x, test.y


def evaluate(emb: Tensor, y: Tensor, episodes: int) -> dict[str, float]:
    """The protocol's figures on the unseen classes (cosine throughout)."""
    from siamkit.data import sample_pairs
    from siamkit.distances import get_distance
    from siamkit.evaluation import few_shot_accuracy, retrieval_metrics, verification_metrics

    cos = get_distance("cosine")
    r = retrieval_metrics(emb, y, distance=cos, ks=(1,))
    pairs = sample_pairs(y, 20_000, 0.5, seed=12345)  # the same 20k pairs for every contender
    scores = cos.closeness(cos.pairwise(emb[pairs.first], emb[pairs.second])).numpy()
    v = verification_metrics((1 - pairs.label).numpy(), scores)
    out = {"p_at_1": r.precision_at_1, "map_at_r": r.map_at_r, "roc_auc": v.roc_auc, "eer": v.eer}
    for k in (1, 5):
        fs = few_shot_accuracy(emb, y, cos, n_way=5, k_shot=k, episodes=episodes, seed=0)
        out[f"5w{k}s"] = fs.mean
    return out


def embed(model: nn.Module, x: Tensor) -> Tensor:
    import torch

    model.eval()
    with torch.inference_mode():
        return torch.cat([model(x[i : i + 512]) for i in range(0, len(x), 512)])


def pml_train(name: str, model: nn.Module, x: Tensor, y: Tensor, epochs: int) -> float:
    """Train with pytorch-metric-learning's loss, miner and MPerClassSampler; images/s."""
    import torch
    from pytorch_metric_learning import losses, miners, samplers
    from torch.utils.data import DataLoader, TensorDataset

    if name == "pml_triplet_semihard":
        loss_fn: Any = losses.TripletMarginLoss(margin=0.2)
        miner: Any = miners.TripletMarginMiner(margin=0.2, type_of_triplets="semihard")
    else:
        loss_fn = losses.ContrastiveLoss(pos_margin=0, neg_margin=1)
        miner = miners.PairMarginMiner(0.2, 0.8) if name == "pml_contrastive_pairmargin" else None
    sampler = samplers.MPerClassSampler(y, m=32, batch_size=BATCH, length_before_new_iter=len(y))
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, sampler=sampler)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    seconds, seen = pml_loop(model, loss_fn, miner, loader, opt, epochs)
    return seen / seconds


def pml_loop(
    model: nn.Module, loss_fn: Any, miner: Any, loader: Any, opt: Any, epochs: int
) -> tuple[float, int]:
    """The plain PML training loop every PML contender runs: (seconds, images seen)."""
    seen, started = 0, time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            emb = model(xb)
            loss = loss_fn(emb, yb, miner(emb, yb)) if miner else loss_fn(emb, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(xb)
    return time.perf_counter() - started, seen


def bare_train(model: nn.Module, x: Tensor, epochs: int) -> float:
    """The speed limit: random batches, all-pairs contrastive on the batch, Adam; images/s.

    Speed only, so one epoch (the first 10 batches, warm-up, not timed) whatever ``epochs``.
    """
    import torch
    import torch.nn.functional as F

    y = torch.arange(len(x)) % 5  # labels do not matter for speed
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    i, j = torch.triu_indices(BATCH, BATCH, offset=1)
    seen, started = 0, time.perf_counter()
    for _ in range(1):
        model.train()
        order = torch.randperm(len(x))
        for b, s in enumerate(range(0, len(x) - BATCH + 1, BATCH)):
            if b == 10:
                seen, started = 0, time.perf_counter()
            idx = order[s : s + BATCH]
            emb = model(x[idx])
            d = torch.cdist(emb, emb)[i, j]
            dissimilar = (y[idx][i] != y[idx][j]).float()
            loss = ((1 - dissimilar) * d**2 + dissimilar * F.relu(1 - d) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += BATCH
    return seen / (time.perf_counter() - started)


def cli_commands(
    name: str, data_dir: str, run: str, seed: str, epochs: int, episodes: int
) -> tuple[list[str], list[str]]:
    """The ``siamkit train`` and ``siamkit evaluate`` arguments of a CLI row (after ``siamkit``)."""
    train = ["train", "--data", f"fashion-mnist:{data_dir}", "--train-classes", "0-4",
             "--eval-classes", "5-9", *CLI_ROWS[name], "--epochs", str(epochs), "--seed", seed,
             "--out", run, "--no-progress"]  # fmt: skip
    return train, ["evaluate", run, "--json", "--episodes", str(episodes)]


def shown(args: list[str]) -> str:
    """A command as the table prints it."""
    return " ".join(["siamkit", *args])


def figures(record: dict[str, Any]) -> dict[str, Any]:
    """The table's figures from a ``siamkit evaluate --json`` record."""
    few_shot = {
        (r["n_way"], r["k_shot"]): r["mean"]
        for r in record["few_shot"]
        if r["method"] == "prototype"
    }
    out: dict[str, Any] = {
        "p_at_1": record["retrieval"]["precision_at_1"],
        "map_at_r": record["retrieval"]["map_at_r"],
        "roc_auc": record["verification"]["roc_auc"]["value"],
        "eer": record["verification"]["eer"]["value"],
        "distance": record["distance"],
    }
    for k in (1, 5):
        if (5, k) in few_shot:
            out[f"5w{k}s"] = few_shot[(5, k)]
    point = record.get("operating_point") or {}
    for key, src in (("far_promised", "promised_far"), ("far_achieved", "far"),
                     ("frr_promised", "promised_frr"), ("frr_achieved", "frr")):  # fmt: skip
        if point.get(src) is not None:
            out[key] = point[src]
    return out


def run_cli(name: str, seed: int, epochs: int, episodes: int, data_dir: Path) -> dict[str, Any]:
    """A siamkit row: ``siamkit train`` then ``siamkit evaluate --json``, as a user runs them."""
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    row: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run = f"{tmp}/run"
        train, evaluate = cli_commands(name, str(data_dir), run, str(seed), epochs, episodes)
        out = ""
        for key, args in (("train_s", train), ("eval_s", evaluate)):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "siamkit", *args], capture_output=True, text=True, env=env
            )
            row[key] = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"`{shown(args)}` failed:\n{done.stderr[-3000:]}")
            out = done.stdout
        metrics = json.loads((Path(run) / "metrics.json").read_text())
    row["train_img_s"] = statistics.median(h["images_per_second"] for h in metrics["history"])
    if "refit" in metrics:
        row["refit"] = metrics["refit"]
    row.update(figures(json.loads(out.strip().splitlines()[-1])))
    # the larger of the two commands' peaks: they are this process's only children
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return row


def run_one(name: str, seed: int, epochs: int, episodes: int, data_dir: Path) -> dict[str, Any]:
    """One (contender, seed): its figures, speeds and peak RSS (``--one`` runs this)."""
    row: dict[str, Any] = {"contender": name, "seed": seed, "epochs": epochs}
    if name in CLI_ROWS:
        return row | run_cli(name, seed, epochs, episodes, data_dir)
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    x, y, xt, yt = load(data_dir)
    model = reference()
    if name == "bare_loop":
        row["train_img_s"] = bare_train(model, x, epochs)
    elif name.startswith("pml"):
        row["train_img_s"] = pml_train(name, model, x, y, epochs)
    started = time.perf_counter()
    emb = embed(model, xt)
    row["embed_img_s"] = len(xt) / (time.perf_counter() - started)
    if name == "floor":  # siamkit's embed_all on the same weights, for the embedding ratio
        from siamkit.evaluation import embed_all
        from siamkit.models import SiameseNetwork

        net = SiameseNetwork(model, "cosine")
        started = time.perf_counter()
        embed_all(net, xt)
        row["siamkit_embed_img_s"] = len(xt) / (time.perf_counter() - started)
    if name != "bare_loop":
        row.update(evaluate(emb, yt, episodes))
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument(
        "--contenders",
        nargs="+",
        default=DEFAULT_CONTENDERS,
        help=f"default: {' '.join(DEFAULT_CONTENDERS)}; also: siamkit_triplet",
    )
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/fmnist-openset.jsonl")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs/benchmarks.md")
    ap.add_argument("--smoke", action="store_true", help="1 epoch, 50 episodes, no docs update")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(
            json.dumps(run_one(args.one, args.seeds[0], args.epochs, args.episodes, args.data_dir))
        )
        return
    if args.smoke:
        args.epochs, args.episodes = 1, 50
    unknown = sorted(set(args.contenders) - set(CONTENDERS))
    if unknown:
        ap.error(f"unknown contenders {unknown}; choose from: {', '.join(CONTENDERS)}")
    rows = []
    started = time.perf_counter()
    for seed in args.seeds:
        for name in args.contenders:
            cmd = [sys.executable, __file__, "--one", name, "--seeds", str(seed),
                   "--epochs", str(args.epochs), "--episodes", str(args.episodes),
                   "--data-dir", str(args.data_dir)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                if "No module named 'pytorch_metric_learning'" in done.stderr:
                    print(f"skip {name}: pytorch-metric-learning is not installed (bench extra)")
                    continue
                raise SystemExit(f"{name} seed {seed} failed:\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    total = time.perf_counter() - started
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    table = render(rows, args, total)
    print(table)
    if not args.smoke:
        write_docs(args.docs, table)


METRICS = ("p_at_1", "map_at_r", "roc_auc", "eer", "5w1s", "5w5s")


def render(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> str:
    """Markdown: medians over seeds (seed values in brackets), floor beside, speed ratios."""
    by = {n: [r for r in rows if r["contender"] == n] for n in CONTENDERS}

    def med(name: str, key: str) -> float | None:
        vals = [r[key] for r in by.get(name, []) if key in r]
        return statistics.median(vals) if vals else None

    def cell(name: str, key: str) -> str:
        m = med(name, key)
        if m is None:
            return "—"
        seeds = "/".join(f"{r[key]:.3f}".lstrip("0") for r in by[name] if key in r)
        return f"{m:.3f} ({seeds})" if len(by[name]) > 1 else f"{m:.3f}"

    head = "| contender | P@1 | MAP@R | ROC-AUC | EER | 5w1s | 5w5s | train img/s | embed img/s | peak RSS MB |"
    lines = [head, "|" + "---|" * 10]
    for name, label in CONTENDERS.items():
        if not by.get(name):
            continue
        speed = [
            f"{med(name, k):,.0f}" if med(name, k) else "—" for k in ("train_img_s", "embed_img_s")
        ]
        lines.append(
            f"| {label} | " + " | ".join(cell(name, k) for k in METRICS)
            + f" | {speed[0]} | {speed[1]} | {med(name, 'peak_rss_mb'):,.0f} |"
        )  # fmt: skip
    notes = []
    bare, sk = med("bare_loop", "train_img_s"), med("siamkit_contrastive", "train_img_s")
    if bare and sk:
        notes.append(
            f"- siamkit trainer / bare loop, training images/s: **{sk / bare:.2f}** (target ≥ 0.9)"
        )
    pml_speeds = [v for n in CONTENDERS if n.startswith("pml") and (v := med(n, "train_img_s"))]
    if sk and pml_speeds:
        notes.append(
            f"- siamkit trainer / fastest PML contender: **{sk / max(pml_speeds):.2f}** (target ≥ 1)"
        )
    bare_e, sk_e = med("floor", "embed_img_s"), med("floor", "siamkit_embed_img_s")
    if bare_e and sk_e:
        notes.append(
            f"- siamkit `embed_all` / bare inference_mode forward: **{sk_e / bare_e:.2f}** (target ≥ 0.95)"
        )
    # the row compared is what a user gets from the README's command, fixed before this run;
    # never the best of the siamkit rows (picking that would look at classes 5-9)
    best = "siamkit_default"
    pml = [n for n in CONTENDERS if n.startswith("pml") and med(n, "map_at_r") is not None]
    best_map = med(best, "map_at_r")
    if pml and best_map is not None:
        top = max(pml, key=lambda n: med(n, "map_at_r") or 0.0)
        top_map, top_p1, best_p1 = med(top, "map_at_r"), med(top, "p_at_1"), med(best, "p_at_1")
        assert top_map is not None and top_p1 is not None and best_p1 is not None
        notes.append(
            f"- siamkit defaults (CLI) MAP@R / best PML MAP@R ({CONTENDERS[top]}): "
            f"**{best_map / top_map:.2f}** (target ≥ 1.15)"
        )
        notes.append(
            f"- siamkit defaults (CLI) P@1 / that PML contender's P@1: **{best_p1 / top_p1:.3f}** "
            "(target ≥ 1)"
        )
    ref_map = med("siamkit_all_last", "map_at_r")
    if best_map is not None and ref_map:
        notes.append(
            f"- refit vs all-classes-last-epoch MAP@R: **{best_map / ref_map:.2f}** (target ≥ 1)"
        )
    promised, achieved = med(best, "far_promised"), med(best, "far_achieved")
    if promised is not None and achieved is not None:
        ratio = f"**{achieved / promised:.2f}×**" if promised > 0 else "— (promised 0)"
        notes.append(
            f"- FAR at the default operating point on the unseen classes, promised vs achieved: "
            f"{promised:.4f} vs {achieved:.4f}, achieved / promised {ratio} (target: achieved "
            "within a factor 2 of promised)"
        )
    t_best, t_ref = med(best, "train_s"), med("siamkit_all_last", "train_s")
    if t_best and t_ref:
        notes.append(
            f"- refit cost, `siamkit train` wall time defaults / all-classes-last-epoch: "
            f"**{t_best / t_ref:.2f}×** ({t_best:,.0f} s vs {t_ref:,.0f} s)"
        )
    commands = [
        f"- {CONTENDERS[n]}: `{shown(train)}` then `{shown(evaluate)}`"
        for n in CLI_ROWS
        if by.get(n)
        for train, evaluate in [cli_commands(n, "DIR", "RUN", "S", args.epochs, args.episodes)]
    ]
    if commands:
        commands = [
            "",
            "siamkit rows: the commands run (`python -m siamkit ...`, `OMP_NUM_THREADS=2`, a fresh "
            "RUN per seed S; DIR is the Fashion-MNIST folder; figures from the evaluate record, "
            "train img/s from RUN/metrics.json):",
            "",
            *commands,
        ]
    cmd = "python bench/fmnist_openset.py " + " ".join(
        f"--seeds {' '.join(map(str, args.seeds))} --epochs {args.epochs} --episodes {args.episodes}".split()
    )
    import torch

    machine = f"{platform.machine()}, 2 threads, torch {torch.__version__}"
    return "\n".join(
        [f"Command: `{cmd}` ({seconds / 60:.1f} min; {machine}; medians over seeds "
         f"{', '.join(map(str, args.seeds))}, per-seed values in brackets)", "", *lines, "", *notes,
         *commands]
    )  # fmt: skip


def write_docs(path: Path, table: str, marker: str = "fmnist-openset") -> None:
    """Replace the text between ``<!-- MARKER:start -->`` and ``<!-- MARKER:end -->``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = path.read_text() if path.is_file() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{table}\n{end}{tail}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
