"""fmnist-openset, pretrained track (issue 23): every contender on the same ImageNet backbone.

Protocol: EfficientNet-Lite0 with ImageNet weights (siamkit's ``efficientnet_lite0``: images
resized to 64×64 inside the model, grey copied to 3 channels, ``(x - 0.5) / 0.5``) for every
contender; the same epochs (2), batch (64) and training images: a FIXED subset of the
Fashion-MNIST train split, ``--per-class`` items (600) of each of classes 0-4, drawn with a
generator of seed 0 whatever the run's seed; evaluation on the test split classes 5-9 (all
5,000), never seen. 2 threads. Each (contender, seed) runs in its own process (``--one``).

- ``floor``: the backbone as published, pooled 1280-d features, no training: ``siamkit init``
  then ``siamkit evaluate --json``. Seed-independent, so it runs once (the first seed) and its
  row has ``seed_independent: true``.
- ``pml_contrastive``, ``pml_ms``: pytorch-metric-learning's losses fine-tuning the same
  encoder (siamkit's ``PretrainedImageEncoder`` with a ``Linear(1280, 64)`` head, L2-normalised,
  BatchNorm statistics frozen), batches of 64 from ``MPerClassSampler(m=16)``, Adam with
  backbone lr 1e-4, head lr 1e-3, weight decay 1e-4 (docs of the reference:
  ../shared/reference/pretrained-floor.md); scored by fmnist_openset's :func:`evaluate`.
- ``siamkit``: the CLI, ``siamkit train --encoder efficientnet_lite0 ...`` with the recipe
  flags in :data:`RECIPE` (chosen by bench/select_pretrained.py on classes 0-4 only), then
  ``siamkit evaluate RUN --json``; figures from the evaluate record. Its defaults fine-tune the
  whole backbone and embed with an untouched copy's features beside the fine-tuned ones
  (``--keep-pretrained``): the same backbone and weights, run twice at inference.

The CLI's folder ``DIR`` is written by this script: the subset as IDX files
(``train-*-ubyte.gz``) beside links to the original ``t10k-*`` files.

    python bench/fmnist_pretrained.py                       # 3 seeds, 2 epochs, rewrites docs
    python bench/fmnist_pretrained.py --smoke --data-dir D  # 1 epoch, 16 a class, 32 px

Results: one JSON line per (contender, seed) in bench/results/fmnist-pretrained.jsonl, and the
median table in docs/benchmarks.md between the fmnist-pretrained markers (not with --smoke).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import platform
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fmnist_openset import METRICS, evaluate, figures, load, pml_loop, shown, write_docs

if TYPE_CHECKING:  # torch is imported where used: a CLI row's process only starts the CLI
    import torch
    from torch import Tensor, nn

ROOT = Path(__file__).resolve().parent.parent
ENCODER = "efficientnet_lite0"
TRAIN_CLASSES = (0, 1, 2, 3, 4)
SUBSET_SEED = 0  # the training subset is the same for every run seed and every contender
BATCH, M_PER_CLASS, EMBEDDING_DIM = 64, 16, 64
BACKBONE_LR, HEAD_LR, WEIGHT_DECAY = 1e-4, 1e-3, 1e-4  # the PML rows (the reference's setup)
THREADS = "2"

# siamkit's pretrained recipe: extra `siamkit train` flags, chosen by bench/select_pretrained.py
# on the training classes only (never on classes 5-9); [] = siamkit's defaults
RECIPE: list[str] = []

# name -> what it is (shown in the table)
CONTENDERS: dict[str, str] = {
    "floor": "Lite0 frozen, pooled 1280-d, no training (`siamkit init`, floor)",
    "pml_contrastive": "PML ContrastiveLoss(0,1), no miner",
    "pml_ms": "PML MultiSimilarityLoss(2,50,1) + MultiSimilarityMiner(0.1)",
    "siamkit": "siamkit CLI, pretrained recipe",
}
CLI_CONTENDERS = ("floor", "siamkit")


# --- the training subset as IDX files ---------------------------------------------------------


def write_idx(path: Path, arr: np.ndarray) -> None:
    """Write an unsigned-byte IDX file, gzip-compressed, as Fashion-MNIST ships them."""
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(
        struct.pack(">I", n) for n in arr.shape
    )
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def idx_file(folder: Path, prefix: str, part: str) -> Path:
    """The Fashion-MNIST file ``PREFIX-PART-idxN-ubyte[.gz]`` in ``folder`` (the loader's names)."""
    stem = f"{prefix}-{part}-{'idx3' if part == 'images' else 'idx1'}-ubyte"
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"{stem}.gz not found in {folder}; pass --data-dir, the Fashion-MNIST folder")


def subset_indices(labels: np.ndarray, classes: tuple[int, ...], per_class: int) -> np.ndarray:
    """``per_class`` item indices of each class, drawn with seed :data:`SUBSET_SEED`, sorted."""
    rng = np.random.default_rng(SUBSET_SEED)
    chosen = []
    for c in classes:
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise SystemExit(
                f"--per-class {per_class}: class {c} has only {len(pool)} training items"
            )
        chosen.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def write_subset(data_dir: Path, out: Path, per_class: int, with_test: bool = True) -> Path:
    """A Fashion-MNIST folder for ``--data fashion-mnist:OUT``: the fixed subset of the train
    split's classes 0-4 and (``with_test``) links to the original test files."""
    from siamkit.data.idx import read_idx

    images = read_idx(idx_file(data_dir, "train", "images"))
    labels = read_idx(idx_file(data_dir, "train", "labels"))
    keep = subset_indices(labels, TRAIN_CLASSES, per_class)
    out.mkdir(parents=True, exist_ok=True)
    write_idx(out / "train-images-idx3-ubyte.gz", images[keep])
    write_idx(out / "train-labels-idx1-ubyte.gz", labels[keep])
    if with_test:
        for part in ("images", "labels"):
            src = idx_file(data_dir, "t10k", part)
            (out / src.name).symlink_to(src.resolve())
    return out


# --- the CLI ----------------------------------------------------------------------------------


@functools.cache
def cli_train_settings() -> tuple[frozenset[str], frozenset[str]]:
    """The settings ``siamkit train`` takes as flags (its command's parameter names), and
    every setting of a run (``TrainConfig``'s fields)."""
    import inspect

    from siamkit.cli.train import train
    from siamkit.training import TrainConfig

    return frozenset(inspect.signature(train).parameters), frozenset(TrainConfig.model_fields)


def train_flags(flags: list[str], config: str) -> tuple[list[str], dict[str, Any]]:
    """Split ``siamkit train`` flags into those the CLI has and settings it has no flag for.

    The latter (e.g. ``--trainable-blocks 0`` while the CLI lacks that flag) go into a
    ``--config`` file: returns the flags to pass (ending ``--config CONFIG`` when there are
    such settings) and the settings to write to ``config``.
    """
    known, fields = cli_train_settings()
    kept: list[str] = []
    settings: dict[str, Any] = {}
    i = 0
    while i < len(flags):
        name = flags[i].removeprefix("--").replace("-", "_")
        if i + 1 < len(flags) and not flags[i + 1].startswith("--"):
            raw, step = flags[i + 1], 2
            try:
                value: Any = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        elif name.startswith("no_") and name[3:] in fields:  # --no-refit, --no-freeze-bn
            name, value, step = name[3:], False, 1
        else:
            value, step = True, 1
        if name in known:
            kept += flags[i : i + step]
        else:
            settings[name] = value
        i += step
    return ([*kept, "--config", config] if settings else kept), settings


def siamkit(args: list[str]) -> tuple[str, float]:
    """Run ``python -m siamkit ARGS`` with ``OMP_NUM_THREADS=2``: its stdout and wall seconds."""
    env = {**os.environ, "OMP_NUM_THREADS": THREADS}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "siamkit", *args], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"`{shown(args)}` failed:\n{done.stderr[-3000:]}")
    return done.stdout, seconds


def last_json(stdout: str) -> dict[str, Any]:
    """The JSON object on the last line of a command's output."""
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return out


def median_img_s(run: str | Path) -> float:
    """Median ``images_per_second`` over ``RUN/metrics.json["history"]``."""
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    return statistics.median(h["images_per_second"] for h in metrics["history"])


def cli_commands(
    name: str, data_dir: str, run: str, seed: str, epochs: int, episodes: int, image_size: int,
    config: str,
) -> tuple[list[str], list[str], dict[str, Any]]:  # fmt: skip
    """A CLI row's first command (``init`` or ``train``), its ``evaluate`` and the settings
    that go to ``config`` (see :func:`train_flags`)."""
    evaluate_args = ["evaluate", run, "--json", "--episodes", str(episodes)]
    data = f"fashion-mnist:{data_dir}"
    if name == "floor":
        init = ["init", run, "--encoder", ENCODER, "--data", data, "--eval-classes", "5-9",
                "--image-size", str(image_size)]  # fmt: skip
        return init, evaluate_args, {}
    flags, settings = train_flags(RECIPE, config)
    train = ["train", "--data", data, "--encoder", ENCODER, "--train-classes", "0-4",
             "--eval-classes", "5-9", *flags, "--epochs", str(epochs), "--batch-size", str(BATCH),
             "--image-size", str(image_size), "--seed", seed, "--out", run, "--no-progress"]  # fmt: skip
    return train, evaluate_args, settings


def run_cli(
    name: str, seed: int, epochs: int, episodes: int, data_dir: Path, image_size: int
) -> dict[str, Any]:
    """A CLI row, run as a user runs it; peak RSS is the larger of the two commands' peaks."""
    row: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run, config = f"{tmp}/run", f"{tmp}/settings.json"
        first, evaluate_args, settings = cli_commands(
            name, str(data_dir), run, str(seed), epochs, episodes, image_size, config
        )
        if settings:
            Path(config).write_text(json.dumps(settings))
        _, row["init_s" if name == "floor" else "train_s"] = siamkit(first)
        if name != "floor":
            row["train_img_s"] = median_img_s(run)
            metrics = json.loads((Path(run) / "metrics.json").read_text())
            if "refit" in metrics:
                row["refit"] = metrics["refit"]
        out, row["eval_s"] = siamkit(evaluate_args)
    row.update(figures(last_json(out)))
    # they are this process's only children
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return row


# --- the PML rows -----------------------------------------------------------------------------


def pml_model(image_size: int) -> tuple[nn.Module, torch.optim.Optimizer]:
    """siamkit's Lite0 encoder with a ``Linear(1280, 64)`` head, L2-normalised; its Adam."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from siamkit.models.pretrained_image import PretrainedImageEncoder

    class Normalised(nn.Module):
        def __init__(self, encoder: nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, x: Tensor) -> Tensor:
            return F.normalize(self.encoder(x), dim=1)  # (B, 64)

    enc = PretrainedImageEncoder(
        in_channels=1, embedding_dim=EMBEDDING_DIM, image_size=image_size, head=True,
        pretrained=True,
    )  # fmt: skip
    enc.set_trainable(None, freeze_bn=True)
    opt = torch.optim.Adam(
        [{"params": list(enc.backbone_parameters()), "lr": BACKBONE_LR},
         {"params": list(enc.head.parameters()), "lr": HEAD_LR}],
        weight_decay=WEIGHT_DECAY,
    )  # fmt: skip
    return Normalised(enc), opt


def pml_train(
    name: str, model: nn.Module, opt: torch.optim.Optimizer, x: Tensor, y: Tensor, epochs: int
) -> tuple[float, float]:
    """Train with PML's loss, miner and ``MPerClassSampler``: (seconds, images/s)."""
    from pytorch_metric_learning import losses, miners, samplers
    from torch.utils.data import DataLoader, TensorDataset

    miner: Any = None
    if name == "pml_ms":
        loss_fn: Any = losses.MultiSimilarityLoss(alpha=2, beta=50, base=1)
        miner = miners.MultiSimilarityMiner(epsilon=0.1)
    else:
        loss_fn = losses.ContrastiveLoss(pos_margin=0, neg_margin=1)
    sampler = samplers.MPerClassSampler(
        y, m=M_PER_CLASS, batch_size=BATCH, length_before_new_iter=max(len(y), BATCH)
    )
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, sampler=sampler)
    seconds, seen = pml_loop(model, loss_fn, miner, loader, opt, epochs)
    return seconds, seen / seconds


def embed(model: nn.Module, x: Tensor) -> Tensor:
    """Embeddings ``(N, D)`` under ``inference_mode``, 256 at a time."""
    import torch

    model.eval()
    with torch.inference_mode():
        return torch.cat([model(x[i : i + 256]) for i in range(0, len(x), 256)])


def run_one(
    name: str, seed: int, epochs: int, episodes: int, data_dir: Path, image_size: int
) -> dict[str, Any]:
    """One (contender, seed) on the prepared subset folder ``data_dir`` (``--one`` runs this)."""
    row: dict[str, Any] = {"contender": name, "seed": seed, "epochs": epochs,
                           "image_size": image_size}  # fmt: skip
    if name in CLI_CONTENDERS:
        return row | run_cli(name, seed, epochs, episodes, data_dir, image_size)
    import torch

    torch.set_num_threads(int(THREADS))
    torch.manual_seed(seed)
    np.random.seed(seed)  # PML's sampler draws from numpy's global generator
    x, y, xt, yt = load(data_dir)
    model, opt = pml_model(image_size)
    row["train_s"], row["train_img_s"] = pml_train(name, model, opt, x, y, epochs)
    row.update(evaluate(embed(model, xt), yt, episodes))
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


# --- the table --------------------------------------------------------------------------------


def render(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> str:
    """Markdown: medians over seeds (per-seed values in brackets), the ratios, the commands."""
    by = {n: [r for r in rows if r["contender"] == n] for n in CONTENDERS}

    def med(name: str, key: str) -> float | None:
        vals = [r[key] for r in by.get(name, []) if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def cell(name: str, key: str, fmt: str = ".3f") -> str:
        m = med(name, key)
        if m is None:
            return "—"
        if len(by[name]) == 1 or fmt != ".3f":
            return format(m, fmt)
        seeds = "/".join(f"{r[key]:.3f}".lstrip("0") for r in by[name] if key in r)
        return f"{m:.3f} ({seeds})"

    head = "| contender | P@1 | MAP@R | ROC-AUC | EER | 5w1s | 5w5s | train img/s | train s | peak RSS MB |"
    lines = [head, "|" + "---|" * 10]
    for name, label in CONTENDERS.items():
        if by.get(name):
            lines.append(
                f"| {label} | " + " | ".join(cell(name, k) for k in METRICS)
                + f" | {cell(name, 'train_img_s', ',.0f')} | {cell(name, 'train_s', ',.0f')}"
                + f" | {cell(name, 'peak_rss_mb', ',.0f')} |"
            )  # fmt: skip
    notes = []
    sk_map, sk_p1 = med("siamkit", "map_at_r"), med("siamkit", "p_at_1")
    pml = [n for n in CONTENDERS if n.startswith("pml") and med(n, "map_at_r") is not None]
    if sk_map is not None and sk_p1 is not None and pml:
        top = max(pml, key=lambda n: med(n, "map_at_r") or 0.0)
        top_map, top_p1 = med(top, "map_at_r"), med(top, "p_at_1")
        assert top_map is not None and top_p1 is not None
        notes.append(
            f"- siamkit MAP@R / best PML MAP@R ({CONTENDERS[top]}): "
            f"**{sk_map / top_map:.2f}** (target ≥ 1.15)"
        )
        notes.append(
            f"- siamkit P@1 / that PML contender's P@1: **{sk_p1 / top_p1:.3f}** (target ≥ 1)"
        )
        sk_s, top_s = med("siamkit", "train_img_s"), med(top, "train_img_s")
        if sk_s and top_s:
            notes.append(
                f"- siamkit train img/s / that PML contender's: **{sk_s / top_s:.2f}** "
                "(target ≥ 1; both the training loop's own images/s)"
            )
        sk_rss, top_rss = med("siamkit", "peak_rss_mb"), med(top, "peak_rss_mb")
        if sk_rss and top_rss:
            notes.append(
                f"- peak RSS, siamkit vs that PML contender: {sk_rss:,.0f} MB vs {top_rss:,.0f} MB "
                f"(**{sk_rss / top_rss:.2f}×**)"
            )
    floor_map = med("floor", "map_at_r")
    if sk_map is not None and floor_map:
        notes.append(
            f"- siamkit MAP@R / the frozen floor's: **{sk_map / floor_map:.2f}** (target > 1; "
            f"the team's aim: MAP@R ≥ 0.55, here {sk_map:.3f})"
        )
    if by.get("floor"):
        notes.append("- the floor is seed-independent (no training): it ran once")
    notes.append(
        "- train s: PML, the training loop; siamkit, the whole `siamkit train` command (start-up, "
        "data, the selection run and the refit); ROC-AUC, EER and few-shot of the CLI rows come "
        "from `siamkit evaluate` (its own pairs and episodes), the PML rows' from the harness"
    )
    commands = []
    for name in CLI_CONTENDERS:
        if by.get(name):
            first, ev, settings = cli_commands(
                name, "DIR", "RUN", "S", args.epochs, args.episodes, args.image_size, "CFG"
            )
            extra = f" (CFG: `{json.dumps(settings)}`)" if settings else ""
            commands.append(f"- {CONTENDERS[name]}: `{shown(first)}` then `{shown(ev)}`{extra}")
    if commands:
        commands = [
            "",
            "CLI rows: the commands run (`python -m siamkit ...`, `OMP_NUM_THREADS=2`, a fresh RUN "
            f"per seed S; DIR holds the subset, {args.per_class} a class of the train split's "
            "classes 0-4 drawn with seed 0, and links to the original test files):",
            "",
            *commands,
        ]
    cmd = (
        f"python bench/fmnist_pretrained.py --seeds {' '.join(map(str, args.seeds))} "
        f"--epochs {args.epochs} --episodes {args.episodes} --per-class {args.per_class} "
        f"--image-size {args.image_size}"
    )
    import torch

    machine = f"{platform.machine()}, 2 threads, torch {torch.__version__}"
    return "\n".join(
        [f"Command: `{cmd}` ({seconds / 60:.1f} min; {machine}; {5 * args.per_class:,} training "
         f"images; medians over seeds {', '.join(map(str, args.seeds))}, per-seed values in "
         "brackets)", "", *lines, "", *notes, *commands]
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument("--per-class", type=int, help="training items a class (600; --smoke 16)")
    ap.add_argument("--image-size", type=int, help="side inside the model (64; --smoke 32)")
    ap.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=list(CONTENDERS))
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench/results/fmnist-pretrained.jsonl")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs/benchmarks.md")
    ap.add_argument("--smoke", action="store_true", help="1 epoch, 50 episodes, no docs update")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # --data-dir is then the subset folder
    args = ap.parse_args()
    if args.smoke:
        args.epochs, args.episodes = 1, 50
    args.per_class = args.per_class or (16 if args.smoke else 600)
    args.image_size = args.image_size or (32 if args.smoke else 64)
    if args.one:
        row = run_one(
            args.one, args.seeds[0], args.epochs, args.episodes, args.data_dir, args.image_size
        )
        print(json.dumps(row | {"per_class": args.per_class}))
        return
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        subset = write_subset(args.data_dir, Path(tmp) / "fashion-mnist", args.per_class)
        for seed in args.seeds:
            for name in args.contenders:
                if name == "floor" and seed != args.seeds[0]:
                    continue  # seed-independent: once
                cmd = [sys.executable, __file__, "--one", name, "--seeds", str(seed),
                       "--epochs", str(args.epochs), "--episodes", str(args.episodes),
                       "--per-class", str(args.per_class), "--image-size", str(args.image_size),
                       "--data-dir", str(subset)]  # fmt: skip
                env = {**os.environ, "OMP_NUM_THREADS": THREADS}
                done = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if done.returncode != 0:
                    if "No module named 'pytorch_metric_learning'" in done.stderr:
                        print(
                            f"skip {name}: pytorch-metric-learning is not installed (bench extra)"
                        )
                        continue
                    raise SystemExit(f"{name} seed {seed} failed:\n{done.stderr[-3000:]}")
                row = last_json(done.stdout)
                if name == "floor":
                    row["seed_independent"] = True
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
        write_docs(args.docs, table, marker="fmnist-pretrained")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
