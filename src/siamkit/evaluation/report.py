"""A self-contained HTML report of a run: every image embedded, drawn with matplotlib (headless).

Sections: configuration, training curves, ROC and DET curves, same/different distance
histograms with the threshold, the metric tables with intervals, a 2-D projection of the
held-out embeddings, and the worst retrieval errors shown as images.

Example:
    A quick report on two of the run's held-out classes, with fewer pairs, bootstrap resamples
    and few-shot episodes than the defaults (``write_report("runs/digits", "report.html")``
    evaluates every held-out class):

    >>> print(write_report("runs/digits", "report.html", classes="5,6", num_pairs=1000,
    ...                    n_boot=20, episodes=20))
    report.html
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from siamkit.data import load_data, parse_classes
from siamkit.data.labelled import LabelledData
from siamkit.evaluation.knn import knn_search
from siamkit.evaluation.run_eval import evaluate_run, operating_point_line, threshold_origin
from siamkit.evaluation.suite import EvaluationSuite
from siamkit.progress import task

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TSNE_LIMIT = 10_000  # t-SNE beside PCA up to this many points
SECTIONS = ("config", "training", "roc-det", "histograms", "metrics", "projection", "errors")


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ValueError("the report needs matplotlib: pip install 'siamkit[plots]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _training_curves(history: list[dict[str, Any]]) -> str:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.2))
    epochs = [h["epoch"] for h in history]
    a.plot(epochs, [h["train_loss"] for h in history], marker="o")
    a.set(xlabel="epoch", ylabel="training loss", title="loss")
    if history and "val" in history[0]:
        for key in ("roc_auc", "precision_at_1"):
            b.plot(epochs, [h["val"][key] for h in history], marker="o", label=key)
        b.legend()
    b.set(xlabel="epoch", title="validation (training classes held out)")
    return _img(_png(fig), "training curves")


def _roc_det(same: np.ndarray, scores: np.ndarray) -> str:
    from scipy.stats import norm
    from sklearn.metrics import det_curve, roc_curve

    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr, _ = roc_curve(same, scores)
    a.plot(fpr, tpr)
    a.plot([0, 1], [0, 1], ls="--", c="grey")
    a.set(xlabel="false accept rate", ylabel="true accept rate", title="ROC")
    dfpr, dfnr, _ = det_curve(same, scores)
    eps = 1e-4
    b.plot(norm.ppf(np.clip(dfpr, eps, 1 - eps)), norm.ppf(np.clip(dfnr, eps, 1 - eps)))
    ticks = [0.001, 0.01, 0.05, 0.2, 0.5, 0.8]
    b.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    b.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    b.set(xlabel="false accept rate", ylabel="false reject rate", title="DET (normal deviate)")
    return _img(_png(fig), "ROC and DET curves")


def _histograms(same: np.ndarray, dist: np.ndarray, threshold: float | None, name: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = np.linspace(float(dist.min()), float(dist.max()), 60)
    ax.hist(dist[same == 1], bins=bins, alpha=0.6, label="same class", density=True)
    ax.hist(dist[same == 0], bins=bins, alpha=0.6, label="different class", density=True)
    if threshold is not None:
        ax.axvline(threshold, c="k", ls="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel=f"{name} distance", ylabel="density", title="pair distances")
    ax.legend()
    return _img(_png(fig), "distance histograms")


def _projection(emb: np.ndarray, labels: np.ndarray, names: list[str], seed: int) -> str:
    from sklearn.decomposition import PCA

    plt = _plt()
    views = [("PCA", PCA(n_components=2, random_state=seed).fit_transform(emb))]
    if len(emb) <= TSNE_LIMIT:
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, len(emb) // 4)))
        views.append(
            (
                "t-SNE",
                TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(emb),
            )
        )
    fig, axes = plt.subplots(1, len(views), figsize=(5.5 * len(views), 5), squeeze=False)
    for ax, (title, xy) in zip(axes[0], views, strict=True):
        for c in np.unique(labels):
            m = labels == c
            ax.scatter(xy[m, 0], xy[m, 1], s=4, label=names[int(c)])
        ax.set(title=f"{title} of held-out embeddings", xticks=[], yticks=[])
    axes[0][0].legend(markerscale=3, fontsize=8)
    return _img(_png(fig), "2-D projection")


def _worst_errors(suite: EvaluationSuite, data: LabelledData, count: int = 8) -> str:
    """Items whose nearest neighbour is of another class, the closest such pairs first."""

    dist = suite.metric
    nn = knn_search(suite.embeddings, suite.embeddings, 1, dist, exclude_self=True)
    nn_idx, nn_d = nn.indices[:, 0], nn.distances[:, 0]
    labels = suite.labels.numpy()
    wrong = np.nonzero(labels[nn_idx] != labels)[0]
    if len(wrong) == 0:
        return "<p>No retrieval errors: every item's nearest neighbour is of its class.</p>"
    closeness = nn_d if dist.larger_is_closer else -nn_d
    order = wrong[np.argsort(-closeness[wrong], kind="stable")][:count]
    rows = []
    for i in order:
        j = int(nn_idx[i])
        q, n = data.class_names[int(labels[i])], data.class_names[int(labels[j])]
        cells = [f"item {i} ({html.escape(q)})", f"item {j} ({html.escape(n)})"]
        if data.kind == "image":
            cells = [_thumb(data.x[i]) + "<br>" + cells[0], _thumb(data.x[j]) + "<br>" + cells[1]]
        rows.append(f"<tr><td>{cells[0]}</td><td>{cells[1]}</td><td>{nn_d[i]:.4f}</td></tr>")
    head = "<tr><th>query</th><th>nearest neighbour (wrong class)</th><th>distance</th></tr>"
    return f'<table class="errors">{head}{"".join(rows)}</table>'


def _thumb(x: torch.Tensor) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.2, 1.2))
    img = x.permute(1, 2, 0).numpy() if x.shape[0] == 3 else x[0].numpy()
    ax.imshow(img, cmap=None if x.shape[0] == 3 else "gray")
    ax.axis("off")
    return _img(_png(fig), "item")


def _metric_tables(record: dict[str, Any]) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><tr>{th}</tr>{body}</table>"

    v = record["verification"]
    parts = [
        "<h3>Verification</h3>",
        table(
            ["metric", "value", "95% interval"],
            [
                [k, f"{e['value']:.4f}", f"[{e['low']:.4f}, {e['high']:.4f}]"]
                for k, e in v.items()
                if isinstance(e, dict)
            ],
        ),
        "<h3>Retrieval</h3>",
        table(["metric", "value"], [[k, f"{x:.4f}"] for k, x in record["retrieval"].items()]),
    ]
    if record["few_shot"]:
        parts += [
            "<h3>Few-shot</h3>",
            table(
                ["task", "method", "accuracy", "episodes"],
                [
                    [f"{f['n_way']}-way {f['k_shot']}-shot", f["method"],
                     f"{f['mean']:.4f} ± {f['ci95']:.4f}", str(f["episodes"])]
                    for f in record["few_shot"]
                ],
            ),
        ]  # fmt: skip
    parts += [
        "<h3>Classification from embeddings</h3>",
        table(
            ["method", "accuracy", "macro-F1"],
            [[k, f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}"]
             for k, m in record["classification"].items()],
        ),
        "<h3>Distances</h3>",
        table(
            ["distance", "ROC-AUC", "EER", "P@1", "MAP@R"],
            [[r["distance"], f"{r['roc_auc']:.4f}", f"{r['eer']:.4f}",
              f"{r['precision_at_1']:.4f}", f"{r['map_at_r']:.4f}"] for r in record["distances"]],
        ),
    ]  # fmt: skip
    o = record.get("open_set")
    if o:
        pts = [(f"FPIR ≤ {p['target_fpir']:g}", p) for p in o["at_fpir"]]
        if o["at_threshold"]:
            pts.append((f"run threshold ({threshold_origin(record)})", o["at_threshold"]))
        parts += [
            f"<h3>Open-set identification (rank-1 {o['rank1']:.4f})</h3>",
            table(
                ["operating point", "threshold", "DIR", "FPIR", "unknown correct"],
                [[n, f"{p['threshold']:.4f}", f"{p['dir']:.4f}", f"{p['fpir']:.4f}",
                  f"{p['unknown_correct_rate']:.4f}"] for n, p in pts],
            ),
        ]  # fmt: skip
    return "".join(parts)


_CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow:auto}"
    "section{margin-bottom:2em}"
)


@torch.no_grad()
def render_report(
    run_dir: Path, config: dict[str, Any], history: list[dict[str, Any]],
    suite: EvaluationSuite, record: dict[str, Any], data: LabelledData, seed: int = 0,
) -> str:  # fmt: skip
    """The report's HTML text (see :func:`write_report`)."""
    same = (1 - suite.pairs.label).numpy()
    dist = suite.pair_distances
    scores = dist if suite.metric.larger_is_closer else -dist
    drawers: dict[str, Callable[[], str]] = {
        "config": lambda: f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>",
        "training": lambda: _training_curves(history) if history else "<p>No training history.</p>",
        "roc-det": lambda: _roc_det(same, scores),
        "histograms": lambda: _histograms(same, dist, suite.threshold, suite.distance),
        "metrics": lambda: _metric_tables(record),
        "projection": lambda: _projection(
            suite.embeddings.numpy(), suite.labels.numpy(), data.class_names, seed
        ),
        "errors": lambda: _worst_errors(suite, data),
    }
    sections = {}
    with task("drawing the report's sections", total=len(drawers)) as advance:
        for name, draw in drawers.items():
            sections[name] = draw()
            advance(1)
    titles = {
        "config": "Configuration", "training": "Training curves", "roc-det": "ROC and DET",
        "histograms": "Same and different pair distances", "metrics": "Metrics",
        "projection": "Held-out embeddings in 2-D", "errors": "Worst errors",
    }  # fmt: skip
    body = "".join(
        f'<section id="{k}"><h2>{titles[k]}</h2>{sections[k]}</section>' for k in SECTIONS
    )
    what = (
        f"{html.escape(str(record['data']))} ({record['split']}), classes "
        f"{html.escape(', '.join(map(str, record['classes'])))}: {record['num_items']} items"
    )
    seen = record.get("seen_in_training") or []
    unseen = (
        f"<strong>including classes the run trained on ({html.escape(', '.join(seen))}), so "
        "these are not held-out figures</strong>"
        if seen
        else "never seen in training"
    )
    thr = "none" if suite.threshold is None else f"{suite.threshold} ({threshold_origin(record)})"
    op = operating_point_line(record)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>siamkit report: "
        f"{html.escape(str(run_dir))}</title><style>{_CSS}</style></head><body>"
        f"<h1>siamkit report: {html.escape(str(run_dir))}</h1><p>Evaluated on {what}, "
        f"{unseen}. Distance: {suite.distance}; threshold: {thr}.</p>"
        + ("" if op is None else f"<p>{html.escape(op)}</p>")
        + f"{body}</body></html>"
    )


def write_report(
    run_dir: str | Path,
    out: str | Path,
    data: str | None = None,
    classes: str | None = None,
    split: str = "test",
    num_pairs: int = 20_000,
    n_boot: int = 200,
    episodes: int = 600,
    seed: int = 0,
) -> Path:
    """Evaluate a run (as ``siamkit evaluate`` does) and write its HTML report to ``out``.

    Returns:
        The path written (atomically: a temporary file renamed into place).
    """
    from siamkit.run.checkpoint import load_run
    from siamkit.run.config import source_options

    _plt()  # fail early, before the evaluation, when matplotlib is missing
    run_dir = Path(run_dir)
    suite, record = evaluate_run(
        run_dir, data, classes, split, "best", num_pairs, n_boot, episodes, seed
    )
    run = load_run(run_dir)
    full = load_data(data or run.config.data, source_options(run.config), split=split)  # type: ignore[arg-type]
    subset = full.of_classes(parse_classes(record["classes"], full.class_names))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    text = render_report(run_dir, config, metrics.get("history", []), suite, record, subset, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
