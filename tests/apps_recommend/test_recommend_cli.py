"""``siamkit recommend`` end to end on a tiny MovieLens folder; the gallery serves the queries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from siamkit.apps.recommend import load_run, recommend_for_history, similar_items
from siamkit.cli.main import app

from .movielens_files import write_movielens

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rec")
    data = write_movielens(root / "ml")
    out = root / "run"
    result = runner.invoke(
        app,
        [
            "recommend", "train", "--data", f"movielens:{data}", "--out", str(out),
            "--epochs", "2", "--windows", "3,0", "--neighbours", "5,0", "--text-model", "none",
            "--cold-fraction", "0.2", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    methods = [r["method"] for r in report["test"]]
    assert methods[1].startswith("item-kNN") and methods[2] == "popularity"
    assert all(0 <= r["recall"] <= 1 and r["users"] == 24 for r in report["test"])
    assert report["chosen"]["knn_neighbours"] in (5, 0)
    return out


def test_run_holds_a_gallery_of_every_item(run_dir: Path) -> None:
    from siamkit.index import Gallery

    run = load_run(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["counts"]["cold_items"] == run.cold.sum() > 0
    assert {s["method"] for s in metrics["selection"]} == {"siamese", "item_knn"}
    with Gallery.open(run_dir / "gallery") as gal:
        assert len(gal) == run.items.n == 31
    # similar items through the gallery = the cosine top-k of the saved embeddings
    recs = similar_items(run, "Movie 4 (1958)", k=5)
    e = run.embeddings
    sims = e @ e[4]
    sims[4] = -np.inf
    want = np.argsort(-sims)[:5]
    assert [r.movie_id for r in recs] == run.items.item_ids[want].tolist()
    # a history: the normalised mean, its own items left out
    hist = np.array([1, 4])
    q = e[hist].mean(axis=0)
    sims = e @ (q / np.linalg.norm(q))
    sims[hist] = -np.inf
    got = recommend_for_history(run, hist, k=4)
    assert [r.movie_id for r in got] == run.items.item_ids[np.argsort(-sims)[:4]].tolist()


def test_cli_similar_and_history(run_dir: Path) -> None:
    result = runner.invoke(app, ["recommend", "similar", str(run_dir), "--item", "movie 4"])
    assert result.exit_code == 0, result.output
    assert "Movie 4 (1958)" in result.stdout and result.stdout.count("movieId") == 10
    result = runner.invoke(
        app, ["recommend", "history", str(run_dir), "--user", "3", "--k", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    recs = json.loads(result.stdout)
    run = load_run(run_dir)
    rated = set(run.items.item_ids[run.ratings.item[run.ratings.user == 3]].tolist())
    assert len(recs) == 3 and not rated & {r["movie_id"] for r in recs}
    result = runner.invoke(
        app,
        ["recommend", "history", str(run_dir), "--history", "Movie 1 (1952);Movie 4 (1958)"],
    )
    assert result.exit_code == 0, result.output
    assert "Movie 1 (1952)" not in result.stdout.split(":", 1)[1]


def test_cli_unknown_names_are_named_with_close_matches(run_dir: Path) -> None:
    result = runner.invoke(app, ["recommend", "similar", str(run_dir), "--item", "Movei 4 (1958)"])
    assert result.exit_code == 2
    assert "Movei 4 (1958)" in result.output and "Movie 4 (1958)" in result.output
    result = runner.invoke(app, ["recommend", "history", str(run_dir), "--user", "250"])
    assert result.exit_code == 2 and "no user 250" in result.output and "1-24" in result.output
    result = runner.invoke(
        app, ["recommend", "history", str(run_dir), "--history", "Movie 1 (1952);Nope"]
    )
    assert result.exit_code == 2 and "'Nope'" in result.output
    result = runner.invoke(app, ["recommend", "history", str(run_dir)])
    assert result.exit_code == 2 and "exactly one of" in result.output
    result = runner.invoke(app, ["recommend", "similar", str(run_dir.parent), "--item", "x"])
    assert result.exit_code == 2 and "not a recommendation run" in result.output


def test_new_item_is_embedded_from_features_and_enrolled(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    from siamkit.apps.recommend import ItemEmbedder, ItemTable, embed_new_items
    from siamkit.index import Gallery

    run = load_run(shutil.copytree(run_dir, tmp_path / "run"))
    assert not run.known[30]  # "Babylon 5": in movies.csv, never rated -> features only
    twin = ItemTable(np.array([999]), ["Babylon 5"], np.array([np.nan]), [()])
    emb = embed_new_items(run, twin)
    np.testing.assert_allclose(emb[0], run.embeddings[30], atol=1e-6)
    with Gallery.open(run.path / "gallery", embedder=ItemEmbedder(run.tower)) as gal:
        (new_id,) = gal.enroll_embeddings(emb, "999", metadata={"title": "Babylon 5 (copy)"})
        assert gal.similar(new_id, k=1)[0].label == "310"  # its twin, distance 0


def test_a_recommendation_run_records_its_kind_and_is_told_apart(
    run_dir: Path, trained_run: Path, tmp_path: Path
) -> None:
    from siamkit.run import load_embedder, model_kind, read_json, write_json

    config = read_json(run_dir / "config.json")
    assert (config["format"], config["kind"]) == (2, "recommend")
    assert model_kind(run_dir) == "recommend"
    with pytest.raises(ValueError, match="kind 'recommend'"):
        load_embedder(run_dir)  # not a model of images, vectors or texts
    result = runner.invoke(app, ["verify", str(run_dir), "a.png", "b.png"])
    assert result.exit_code == 2 and "kind 'recommend'" in result.output
    with pytest.raises(ValueError, match="not a recommendation run"):
        load_run(trained_run)
    # a run written before the header still reads
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    write_json(
        old / "config.json", {k: v for k, v in config.items() if k not in ("format", "kind")}
    )
    assert load_run(old).like_threshold == load_run(run_dir).like_threshold
