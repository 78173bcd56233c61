"""Rich tables of an evaluation record (the JSON written by ``evaluate_run``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from siamkit.evaluation.run_eval import operating_point_line, threshold_origin


def _ci(est: dict[str, float]) -> str:
    return f"{est['value']:.4f}  [{est['low']:.4f}, {est['high']:.4f}]"


def print_evaluation(record: dict[str, Any], title: str, console: Console) -> None:
    """Print verification, retrieval, few-shot, classification, distance and open-set tables."""
    seen = record.get("seen_in_training") or []
    thr = record["threshold"]
    kind = (
        f"[yellow]including classes trained on: {', '.join(map(str, seen))}[/]"
        if seen
        else "held-out classes"
    )
    console.print(
        f"[bold]{title}[/]: {record['data']} ({record['split']}) classes "
        f"{', '.join(map(str, record['classes']))} ({kind}); {record['num_items']} items, "
        f"distance {record['distance']}"
    )
    line = operating_point_line(record)
    if line is not None:
        console.print(line, highlight=False)
    elif thr is not None:  # a record from before operating points were recorded
        console.print(f"threshold {thr:.4f}", highlight=False)
    else:
        console.print("no threshold in this run: FAR/FRR not measured", highlight=False)
    v = record["verification"]
    t = Table(title=f"verification ({v['num_pairs']} pairs; value [95% bootstrap interval])")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for key, est in v.items():
        if isinstance(est, dict):
            t.add_row(key, _ci(est))
    console.print(t)

    r = record["retrieval"]
    t = Table(title="retrieval (leave-one-out)")
    for key in ("precision_at_1", "recall_at_5", "recall_at_10", "map_at_r", "r_precision"):
        t.add_column(key, justify="right")
    t.add_row(*(f"{r[k]:.4f}" for k in ("precision_at_1", "recall_at_5", "recall_at_10",
                                         "map_at_r", "r_precision")))  # fmt: skip
    console.print(t)

    if record["few_shot"]:
        t = Table(title="few-shot (mean accuracy ± 95% interval)")
        for col in ("task", "method", "accuracy", "episodes"):
            t.add_column(col, justify="right")
        for row in record["few_shot"]:
            t.add_row(
                f"{row['n_way']}-way {row['k_shot']}-shot", row["method"],
                f"{row['mean']:.4f} ± {row['ci95']:.4f}", str(row["episodes"]),
            )  # fmt: skip
        console.print(t)

    t = Table(title="classification from embeddings (half of each class as reference)")
    for col in ("method", "accuracy", "macro-F1"):
        t.add_column(col, justify="right")
    for method, m in record["classification"].items():
        t.add_row(method, f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}")
    console.print(t)

    t = Table(title="the same embeddings under every distance")
    for col in ("distance", "ROC-AUC", "EER", "P@1", "MAP@R"):
        t.add_column(col, justify="right")
    for row in record["distances"]:
        t.add_row(
            row["distance"], f"{row['roc_auc']:.4f}", f"{row['eer']:.4f}",
            f"{row['precision_at_1']:.4f}", f"{row['map_at_r']:.4f}",
        )  # fmt: skip
    console.print(t)

    o = record.get("open_set")
    if o:
        t = Table(
            title=f"open-set identification ({o['num_mated']} known, {o['num_non_mated']} "
            f"unknown probes; rank-1 {o['rank1']:.4f})"
        )
        for col in ("operating point", "threshold", "DIR", "FPIR", "unknown correct"):
            t.add_column(col, justify="right")
        points = [(f"FPIR ≤ {p['target_fpir']:g}", p) for p in o["at_fpir"]]
        if o["at_threshold"]:
            points.append((f"run threshold ({threshold_origin(record)})", o["at_threshold"]))
        for name, p in points:
            t.add_row(
                name, f"{p['threshold']:.4f}", f"{p['dir']:.4f}", f"{p['fpir']:.4f}",
                f"{p['unknown_correct_rate']:.4f}",
            )  # fmt: skip
        console.print(t)
