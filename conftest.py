"""The world the docstring examples run in (``pytest`` collects them: ``--doctest-modules``).

Every example runs in a fresh empty folder of its own, so an example that writes ``runs/x`` or
``gallery/`` leaves nothing behind. An example that names one of the files below finds it there,
copied from one set made once per test session:

- ``runs/digits``: a finished run (digits classes 0-4, one epoch, 16-d embeddings);
- ``model.onnx``: that run's encoder exported to ONNX;
- ``a.png``, ``b.png`` (two zeros), ``c.png`` (a one): 8x8 grey digit images;
- ``people/zero/``, ``people/one/``: three images each, a folder per identity;
- ``ml-tiny/``: a MovieLens folder (``movies.csv``, ``ratings.csv``): eight 1995 movies, eight
  users who each like four of them;
- ``runs/movies``: the recommendation recipe's run on it (tiny settings).

Only what an example names is made and copied, so the examples that need none of it cost
nothing. An example that registers something (a data source, a command group) shows how a
plugin does it; every registry is put back as it was afterwards, so no example leaves a name
behind for the tests that follow. This file is not part of the package; it sits at the root so
that ``tests/conftest.py`` stays the one ``conftest`` module the tests import helpers from.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

WORLD_NAMES = (
    "runs/digits",
    "model.onnx",
    "a.png",
    "b.png",
    "c.png",
    "people",
    "ml-tiny",
    "runs/movies",
)
MOVIES = """movieId,title,genres
1,Toy Story (1995),Animation|Children
2,Jumanji (1995),Adventure|Children
3,Babe (1995),Children|Drama
4,Balto (1995),Animation|Children
5,Heat (1995),Action|Crime
6,Casino (1995),Crime|Drama
7,Se7en (1995),Crime|Thriller
8,Copycat (1995),Crime|Thriller
"""


def _digit_images(out: Path) -> None:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * 16).clip(0, 255).astype(np.uint8)
    zeros = np.flatnonzero(digits.target == 0)
    ones = np.flatnonzero(digits.target == 1)
    Image.fromarray(images[zeros[0]]).save(out / "a.png")
    Image.fromarray(images[zeros[1]]).save(out / "b.png")
    Image.fromarray(images[ones[0]]).save(out / "c.png")
    for name, rows in (("zero", zeros[2:5]), ("one", ones[1:4])):
        folder = out / "people" / name
        folder.mkdir(parents=True)
        for i, row in enumerate(rows, start=1):
            Image.fromarray(images[row]).save(folder / f"{i}.png")


def _movielens(out: Path) -> None:
    """Eight 1995 movies; users 1-4 like (5 stars) movies 1-4, users 5-8 movies 5-8, in turn."""
    out.mkdir(parents=True)
    (out / "movies.csv").write_text(MOVIES)
    rows = [
        f"{u},{(u + t) % 4 + (1 if u <= 4 else 5)},5,{10 * u + t}"
        for u in range(1, 9)
        for t in range(4)
    ]
    (out / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows))


def _movie_run(out: Path, data: Path) -> None:
    """The recommendation recipe on ``data``, tiny: no title encoder, one setting tried."""
    from siamkit.apps.recommend import FitConfig, RecipeConfig, run_recipe

    fit = FitConfig(embedding_dim=8, hidden=(16,), epochs=20, batch_size=8, random_negatives=4)
    config = RecipeConfig(
        data=f"movielens:{data}", out=str(out), k=3, text_model="none", fit=fit,
        cold_fraction=0.25, cold_min_likes=4, windows=(0,), knn_neighbours=(0,), histories=(0,),
    )  # fmt: skip
    run_recipe(config)


def _build_world(out: Path, needs: set[str]) -> None:
    if needs & {"ml-tiny", "runs/movies"} and not (out / "ml-tiny").exists():
        _movielens(out / "ml-tiny")
    if "runs/movies" in needs and not (out / "runs/movies").exists():
        _movie_run(out / "runs/movies", out / "ml-tiny")
    if needs & {"a.png", "b.png", "c.png", "people"} and not (out / "a.png").exists():
        _digit_images(out)
    if needs & {"runs/digits", "model.onnx"} and not (out / "runs/digits").exists():
        from siamkit.training import TrainConfig, train

        config = TrainConfig(
            data="digits",
            train_classes="0-4",
            eval_classes="5-9",
            epochs=1,
            batch_size=64,
            widths=[8, 16],
            embedding_dim=16,
            val_pairs=500,
            out=str(out / "runs/digits"),
            seed=0,
        )
        train(config, progress=False)
    if "model.onnx" in needs and not (out / "model.onnx").exists():
        from siamkit.export import export_run

        export_run(out / "runs/digits", out / "model.onnx")


def _registries() -> list[Any]:
    """Every registry held by a loaded siamkit module."""
    from siamkit.registry import Registry

    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("siamkit") and module is not None:
            for value in list(vars(module).values()):
                if isinstance(value, Registry):
                    found[id(value)] = value
    return list(found.values())


@pytest.fixture(scope="session")
def _doctest_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("doctest-world")


@pytest.fixture(autouse=True)
def _doctest_folder(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each docstring example in an empty folder holding the world files it names (the
    tests under ``tests/`` are left alone)."""
    dtest = getattr(request.node, "dtest", None)
    if dtest is None:
        yield
        return
    tmp_path: Path = request.getfixturevalue("tmp_path")
    _doctest_world: Path = request.getfixturevalue("_doctest_world")
    source = "\n".join(example.source for example in dtest.examples)
    needs = {name for name in WORLD_NAMES if name in source}
    if "model.onnx" in needs:
        needs.add("runs/digits")
    import torch

    torch.set_num_threads(2)  # the world's run is the same whichever example builds it
    torch.manual_seed(0)
    _build_world(_doctest_world, needs)
    for name in needs:
        src = _doctest_world / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp_path / name)
    before = Path.cwd()
    from siamkit.plugins import load_plugins

    load_plugins()  # what the plugins register is part of the state every example starts from
    registries = [(r, dict(r._items), dict(r._lazy)) for r in _registries()]
    os.chdir(tmp_path)
    try:
        import torch

        torch.set_num_threads(2)
        torch.manual_seed(0)
        yield
    finally:
        os.chdir(before)
        for registry, items, lazy in registries:
            registry._items.clear()
            registry._items.update(items)
            registry._lazy.clear()
            registry._lazy.update(lazy)
