"""``siamkit dedup``: near-duplicate and plagiarised documents in a folder or a records file.

Registered in :mod:`siamkit.cli.main` with ``app.command("dedup")(dedup)``; this module
imports nothing from ``main`` so that import is not circular.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from siamkit.cli.options import err, fail, out
from siamkit.cli.progress import status


def dedup(
    input_path: Annotated[
        Path, typer.Argument(help="A folder of .txt/.md files, or a .csv/.jsonl of records.")
    ],
    out_path: Annotated[
        Path, typer.Option("--out", help="CSV of matching passage pairs to write.")
    ] = Path("pairs.csv"),
    threshold: Annotated[
        str,
        typer.Option(
            help="auto (Otsu's cut over best-match similarities, at least 0.7) or a cosine "
            "similarity such as 0.9."
        ),
    ] = "auto",
    model: Annotated[
        str, typer.Option(help="minilm | hf:PATH | a text run directory from `siamkit train`.")
    ] = "minilm",
    clusters: Annotated[
        bool,
        typer.Option(
            "--clusters", help="Add a cluster column and write OUT.clusters.csv (groups)."
        ),
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write an HTML report with the matched passages.")
    ] = None,
    max_chars: Annotated[
        int, typer.Option(help="Longest passage; longer documents are cut, overlapping.")
    ] = 300,
    neighbours: Annotated[
        int, typer.Option(help="Nearest passages of other documents compared per passage.")
    ] = 10,
    text_column: Annotated[str, typer.Option(help="CSV/JSONL: the text column.")] = "text",
    id_column: Annotated[
        str, typer.Option(help="CSV/JSONL: the id column (default ids: FILE:LINE).")
    ] = "id",
) -> None:
    """Find near-duplicate documents: passages embedded, candidates from a FAISS index (never
    all pairs), pairs with their matching passages, similarity and character offsets."""
    from siamkit.dedup import find_duplicates, read_corpus, write_clusters, write_pairs
    from siamkit.dedup.report import write_report
    from siamkit.run.text import load_text_embedder

    try:
        thr: float | str = threshold if threshold == "auto" else float(threshold)
    except ValueError:
        raise fail(f"--threshold takes auto or a number, got {threshold!r}") from None
    try:
        with status(f"finding near-duplicates in {input_path}"):
            docs = read_corpus(input_path, text_column, id_column)
            embedder = load_text_embedder(model)
            result = find_duplicates(docs, embedder, thr, max_chars, neighbours)
    except ValueError as e:
        raise fail(str(e)) from None
    write_pairs(result, out_path, clusters)
    written = [str(out_path)]
    if clusters:
        groups = out_path.with_name(out_path.stem + ".clusters.csv")
        written.append(str(write_clusters(result, docs, groups)))
    if report is not None:
        written.append(str(write_report(result, docs, report)))
    out.print(
        f"{len(docs)} documents, {len(result.passages)} passages: {len(result.pairs)} "
        f"near-duplicate pairs in {len(result.clusters)} groups at cosine >= "
        f"{result.threshold:.3f}"
    )
    err.print("wrote " + ", ".join(written))
