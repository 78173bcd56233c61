"""``siamkit gallery ...``: create a gallery, enroll, identify, verify, recommend, manage.

Registered in :mod:`siamkit.cli.main` with ``app.add_typer(gallery_app, name="gallery")``. Each
command opens the gallery, calls :class:`siamkit.index.Gallery` and closes it (which keeps the
FAISS index for the next command). Bad input exits with status 2 and one readable message.
"""

from __future__ import annotations

import json
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from siamkit.cli.options import AsJson, err, fail, out
from siamkit.cli.progress import status

if TYPE_CHECKING:
    from siamkit.index import Gallery

gallery_app = typer.Typer(
    no_args_is_help=True,
    help="A persistent gallery of known items: enroll, identify, verify, similar.",
)

GalleryDir = Annotated[Path, typer.Argument(help="The gallery directory.")]
K = Annotated[int, typer.Option("--k", help="How many results.")]
MovedModel = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="The gallery's model at a new place (a moved run or .onnx file); its fingerprint "
        "must still be the gallery's.",
    ),
]


@contextmanager
def _opened(directory: Path, **kwargs: Any) -> Iterator[Gallery]:
    """Open a gallery; library errors become one message and exit status 2."""
    from siamkit.index import Gallery

    try:
        gallery = Gallery.open(directory, **kwargs)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    try:
        yield gallery
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    finally:
        gallery.close()


def _print_json(obj: Any) -> None:
    print(json.dumps(obj))


def _shown(value: str) -> str:
    """``value`` safe for a terminal: control characters (escape codes, newlines) written as
    ``\\xNN`` / ``\\uNNNN``, so a stored label or source can never drive the terminal."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")
        else ch
        for ch in value
    )


def _cell(value: str) -> Text:
    """A table cell of stored text: control characters escaped, rich markup not applied."""
    return Text(_shown(value))


def _identification_json(name: str, r: Any) -> dict[str, Any]:
    """One identification as JSON: the library's names (``unknown``, ``candidates``,
    ``item_id``, ``accepted``) and the service's for the same values (``known``, ``matches``,
    ``id``, ``same``; docs/service.md), so one client reads both."""
    body = {"input": name, **asdict(r)}
    body["known"] = not r.unknown
    body["matches"] = [
        {
            "id": c.item_id,
            "label": c.label,
            "distance": c.distance,
            "probability": c.probability,
            "same": c.accepted,
        }
        for c in r.candidates
    ]
    return body


def _prob(p: float | None) -> str:
    return "—" if p is None else f"{p:.3f}"


@gallery_app.command()
def create(
    directory: GalleryDir,
    model: Annotated[Path, typer.Option("--model", help="The run directory to embed with.")],
    store: Annotated[
        str | None,
        typer.Option(help="postgresql://USER@HOST/DB for a shared store (default: SQLite in DIR)."),
    ] = None,
    index: Annotated[str, typer.Option(help="auto | flat (exact) | hnsw")] = "auto",
    hnsw_threshold: Annotated[
        int, typer.Option(help="auto: items above which HNSW replaces the exact index.")
    ] = 100_000,
    ef_search: Annotated[int, typer.Option(help="HNSW search width (recall vs speed).")] = 48,
    threshold: Annotated[
        float | None, typer.Option(help="Override the run's calibrated threshold.")
    ] = None,
) -> None:
    """Create a gallery for the model of a run directory."""
    from siamkit.index import Gallery, IndexConfig

    try:
        config = IndexConfig(kind=index, hnsw_threshold=hnsw_threshold, ef_search=ef_search)
        gallery = Gallery.create(directory, model, store=store, index=config, threshold=threshold)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    stats = gallery.stats()
    gallery.close()
    err.print(
        f"created gallery {directory} ({stats.store}) for model {stats.fingerprint} "
        f"({stats.kind}, {stats.embedding_dim}-d, {stats.distance}, threshold "
        f"{stats.threshold:.4f}); {stats.items} items"
    )


@gallery_app.command()
def enroll(
    directory: GalleryDir,
    inputs: Annotated[
        list[str],
        typer.Argument(help="Files, folders (one subfolder per identity), CSV files or texts."),
    ],
    label: Annotated[
        str | None, typer.Option(help="Identity of every input (else from folders / CSV).")
    ] = None,
    metadata: Annotated[
        str | None, typer.Option(help="JSON object stored with each item, e.g. '{\"cam\": 2}'.")
    ] = None,
    model: MovedModel = None,
) -> None:
    """Embed inputs with the gallery's model and add them (all or nothing)."""
    try:
        meta = json.loads(metadata) if metadata else None
    except json.JSONDecodeError as e:
        raise fail(f"--metadata is not valid JSON ({e}); e.g. '{{\"camera\": 2}}'") from None
    with (
        _opened(directory, embedder=model) as gallery,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        with status(f"enrolling into {directory}"):
            ids = gallery.enroll(inputs, label=label, metadata=meta)
        total = len(gallery)
    for w in caught:
        err.print(f"warning: {_shown(str(w.message))}", highlight=False, markup=False)
    err.print(f"enrolled {len(ids)} items (ids {ids[0]}-{ids[-1]}); the gallery holds {total}")


@gallery_app.command()
def identify(
    directory: GalleryDir,
    inputs: Annotated[list[str], typer.Argument(help="Query file(s) or text(s).")],
    k: K = 5,
    as_json: AsJson = False,
    model: MovedModel = None,
) -> None:
    """Ranked identities of each input with distance and P(same), or unknown (open set)."""
    with _opened(directory, embedder=model) as gallery:
        results = gallery.identify(inputs, k=k)
    if as_json:
        _print_json([_identification_json(i, r) for i, r in zip(inputs, results, strict=False)])
        return
    for name, r in zip(inputs, results, strict=False):
        verdict = "unknown" if r.unknown else escape(_shown(str(r.label)))
        out.print(
            f"{escape(_shown(name))}: [bold]{verdict}[/] (threshold {r.threshold:.4f})",
            highlight=False,
        )
        table = Table("rank", "identity", "distance", "P(same)", "within threshold", "item")
        for rank, c in enumerate(r.candidates, 1):
            table.add_row(
                str(rank),
                _cell(c.label),
                f"{c.distance:.4f}",
                _prob(c.probability),
                "yes" if c.accepted else "no",
                str(c.item_id),
            )
        out.print(table)


@gallery_app.command()
def verify(
    directory: GalleryDir,
    input_: Annotated[str, typer.Argument(metavar="INPUT", help="Query file or text.")],
    label: Annotated[str, typer.Option(help="The claimed identity.")],
    policy: Annotated[
        str, typer.Option(help="max: closest item decides | mean: mean distance decides.")
    ] = "max",
    as_json: AsJson = False,
    model: MovedModel = None,
) -> None:
    """1:1: is INPUT the identity LABEL? (against all of that identity's items)"""
    with _opened(directory, embedder=model) as gallery:
        (r,) = gallery.verify([input_], label, policy=policy)
    if as_json:
        _print_json(asdict(r))
        return
    verdict = "same" if r.same else "different"
    out.print(
        f"{label} ({r.items} items, {policy}): distance {r.distance:.4f} (threshold "
        f"{r.threshold:.4f}, P(same) {_prob(r.probability)}): {verdict}",
        highlight=False,
    )


@gallery_app.command()
def similar(
    directory: GalleryDir,
    item_id: Annotated[int, typer.Argument(help="An enrolled item's id.")],
    k: K = 10,
    as_json: AsJson = False,
) -> None:
    """The items nearest to an enrolled item (recommendations)."""
    with _opened(directory) as gallery:
        neighbours = gallery.similar(item_id, k=k)
    if as_json:
        _print_json([{**asdict(n), "id": n.item_id} for n in neighbours])
        return
    table = Table("rank", "item", "identity", "distance")
    for rank, n in enumerate(neighbours, 1):
        table.add_row(str(rank), str(n.item_id), _cell(n.label), f"{n.distance:.4f}")
    out.print(table)


@gallery_app.command()
def remove(
    directory: GalleryDir,
    ids: Annotated[list[int] | None, typer.Argument(help="Item ids to remove.")] = None,
    label: Annotated[str | None, typer.Option(help="Remove every item of this identity.")] = None,
) -> None:
    """Remove items by id, or a whole identity (all or nothing)."""
    if bool(ids) == (label is not None):
        raise fail("give item ids or --label NAME (one of them)")
    with _opened(directory) as gallery:
        removed = gallery.remove(ids or []) if ids else gallery.remove_label(str(label))
        total = len(gallery)
    err.print(f"removed {len(removed)} items; the gallery holds {total}")


@gallery_app.command("list")
def list_items(
    directory: GalleryDir,
    label: Annotated[str | None, typer.Option(help="Only this identity.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many items.")] = 100,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Items by id: identity, source, metadata, time."""
    with _opened(directory) as gallery:
        items = gallery.list(label=label, limit=limit, offset=offset)
    if as_json:
        _print_json([{k: v for k, v in asdict(it).items() if k != "embedding"} for it in items])
        return
    table = Table("id", "identity", "source", "metadata", "enrolled")
    for it in items:
        table.add_row(
            str(it.id),
            _cell(it.label),
            _cell(it.source or "—"),
            _cell(json.dumps(it.metadata)),
            it.created_at[:19],
        )
    out.print(table)


@gallery_app.command()
def stats(directory: GalleryDir, as_json: AsJson = False) -> None:
    """What the gallery holds, its model, store and index."""
    with _opened(directory) as gallery:
        s = gallery.stats()
    if as_json:
        _print_json(asdict(s))
        return
    table = Table("", "")
    for key, value in asdict(s).items():
        if key == "largest_identities":
            value = ", ".join(f"{lab} ({n})" for lab, n in value) or "—"
        table.add_row(key.replace("_", " "), _cell(str(value)))
    out.print(table)


@gallery_app.command()
def reembed(
    directory: GalleryDir,
    model: Annotated[Path, typer.Option("--model", help="The new run directory.")],
    threshold: Annotated[
        float | None, typer.Option(help="Override the new run's calibrated threshold.")
    ] = None,
) -> None:
    """Re-embed every item from its stored source with another model (all or nothing)."""
    with _opened(directory) as gallery:
        with status(f"re-embedding {directory} with {model}"):
            n = gallery.reembed(model, threshold=threshold)
        fp = gallery.fingerprint
    err.print(f"re-embedded {n} items with model {fp}")
