"""One-shot figures of a trained run on held-out alphabets, written beside the run.

Loads the run's checkpoint and data (default: the run's own source and evaluation classes),
embeds the items, and scores 20-way and 5-way one-shot episodes within one alphabet and across
alphabets with the run's distance and, for a run trained with ``--loss koch``, with its learned
head (:mod:`siamkit.apps.omniglot.koch_head`). The figures go to ``RUN/oneshot-CHECKPOINT.json``.

Example (a run trained on digits 0-4, scored on its evaluation classes 5-9, which have no
alphabets: ``across`` rows only):
    >>> record = evaluate_one_shot("runs/digits", ways=(5,), episodes=20)
    >>> record["classes"], record["alphabets"], record["seen_in_training"]
    (5, None, [])
    >>> [(r["protocol"], r["n_way"], r["scorer"], round(r["mean"], 2)) for r in record["rows"]]
    [('across', 5, 'euclidean', 0.45)]
    >>> Path("runs/digits/oneshot-best.json").is_file()
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siamkit.apps.omniglot.koch_head import KochHeadScore, load_koch_head
from siamkit.apps.omniglot.layout import alphabet_of
from siamkit.apps.omniglot.oneshot import one_shot_table
from siamkit.data import load_data, parse_classes
from siamkit.distances import Distance
from siamkit.models.embed import embed_all
from siamkit.run.files import write_json


def evaluate_one_shot(
    run_dir: str | Path,
    data: str | None = None,
    classes: str | None = None,
    checkpoint: str = "best",
    ways: tuple[int, ...] = (20, 5),
    episodes: int = 400,
    n_query: int = 15,
    seed: int = 0,
) -> dict[str, Any]:
    """Score a run's one-shot accuracy (see module) and write ``RUN/oneshot-CHECKPOINT.json``.

    Args:
        run_dir: A run directory of ``siamkit train``.
        data: Data source; default: the run's.
        classes: Classes to score; default: the run's ``eval_classes``.
        checkpoint: ``best`` or ``last``.
        ways: ``n_way`` values.
        episodes: Episodes per row.
        n_query: Query items per class and episode.
        seed: Seed of the episodes (shared by every scorer).

    Returns:
        The JSON record: what was scored and one entry per row.

    Raises:
        ValueError: Not a run, unknown classes, or too few classes for the episodes.
    """
    from siamkit.run.checkpoint import load_run
    from siamkit.run.config import source_options

    if checkpoint not in ("best", "last"):
        raise ValueError(f"unknown checkpoint '{checkpoint}'; choose one of: best, last")
    run = load_run(run_dir, checkpoint)
    source = data or run.config.data
    full = load_data(source, source_options(run.config), split="test")
    cls = parse_classes(classes or run.config.eval_classes, full.class_names)
    trained: set[int] = set()
    if source == run.config.data:
        trained = set(parse_classes(run.config.train_classes, full.class_names))
    part = full.of_classes(cls)
    emb = embed_all(run.model, part.x)  # (N, D)
    names = full.class_names
    groups: list[str] | None = None
    if all("/" in n for n in names):
        groups = [alphabet_of(n) for n in names]
    scorers: dict[str, Distance] = {run.model.distance.name: run.model.distance}
    head = load_koch_head(run_dir, checkpoint)
    if head is not None:
        scorers["koch_head"] = KochHeadScore(head)
    rows = one_shot_table(
        emb, part.y, groups, scorers, ways, 1, n_query, episodes, seed
    )  # fmt: skip
    record: dict[str, Any] = {
        "data": source,
        "classes": len(cls),
        "alphabets": len({groups[c] for c in cls}) if groups else None,
        "seen_in_training": sorted(names[c] for c in set(cls) & trained),
        "checkpoint": checkpoint,
        "episodes": episodes,
        "n_query": n_query,
        "seed": seed,
        "rows": [r._asdict() for r in rows],
    }
    write_json(Path(run_dir) / f"oneshot-{checkpoint}.json", record)
    return record
