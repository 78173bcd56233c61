"""End to end through the CLI: render a tiny glyph set, train on omniglot:DIR with the Koch
head, and score one-shot episodes with the run's distance and the head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from siamkit.apps.omniglot.koch_head import KochHeadScore, load_koch_head
from siamkit.apps.omniglot.layout import alphabet_of
from siamkit.apps.omniglot.oneshot import one_shot_table
from siamkit.cli.main import app
from siamkit.data import load_data, parse_classes
from siamkit.evaluation import embed_all
from siamkit.training import load_run

from .glyph_fonts import font_folder

runner = CliRunner()


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def koch_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(glyph set, run): Armenian, Cyrillic, Greek, Latin at 16 px; 1 epoch, --loss koch."""
    tmp = tmp_path_factory.mktemp("glyph_cli")
    fonts = font_folder(tmp)
    out, run = tmp / "set", tmp / "run"
    _ok(["glyphs", "render", "--out", str(out), "--size", "16", "--instances", "4",
         "--min-chars", "5", "--max-chars", "6", "--eval-scripts", "Greek,Armenian",
         "--val-scripts", "1", "--scripts", "Armenian,Cyrillic,Greek,Latin",
         "--fonts", str(fonts)])  # fmt: skip
    _ok(["train", "--config", str(out / "recipe.yaml"), "--loss", "koch", "--epochs", "1",
         "--batch-size", "32", "--embedding-dim", "8", "--num-threads", "1", "--no-progress",
         "--out", str(run)])  # fmt: skip
    return out, run


def test_render_writes_the_named_split_and_a_recipe(koch_run):
    out, _ = koch_run
    manifest = json.loads((out / "glyphs.json").read_text())
    assert manifest["evaluation"] == ["Armenian", "Greek"]
    assert manifest["background"] == ["Cyrillic", "Latin"]
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    names = load_data(recipe["data"]).class_names
    evaluated = {alphabet_of(names[i]) for i in parse_classes(recipe["eval_classes"], names)}
    held = {alphabet_of(names[i]) for i in parse_classes(recipe["val_classes"], names)}
    assert evaluated == {"Armenian", "Greek"} and len(held) == 1 and held < {"Cyrillic", "Latin"}


def test_oneshot_scores_with_the_distance_and_the_koch_head(koch_run):
    out, run = koch_run
    record = json.loads(_ok(["glyphs", "oneshot", str(run), "--ways", "5,2", "--episodes",
                             "8", "--json"]))  # fmt: skip
    assert record["alphabets"] == 2 and record["seen_in_training"] == []
    got = {(r["protocol"], r["n_way"], r["scorer"]): r["mean"] for r in record["rows"]}
    # the reference: the same embeddings, scorers and episodes assembled by hand
    loaded = load_run(run)
    full = load_data(f"omniglot:{out}")
    part = full.of_classes(parse_classes(loaded.config.eval_classes, full.class_names))
    head = load_koch_head(run)
    assert head is not None
    scorers = {"euclidean": loaded.model.distance, "koch_head": KochHeadScore(head)}
    groups = [alphabet_of(n) for n in full.class_names]
    rows = one_shot_table(embed_all(loaded.model, part.x), part.y, groups, scorers, (5, 2),
                          episodes=8)  # fmt: skip
    assert got == {(r.protocol, r.n_way, r.scorer): r.mean for r in rows}
    assert (run / "oneshot-best.json").is_file()


def test_recipe_command_and_errors(koch_run, tmp_path):
    out, run = koch_run
    _ok(["glyphs", "recipe", str(out), "--out", str(tmp_path / "r.yaml"), "--image-size", "16",
         "--val-alphabets", "1"])  # fmt: skip
    recipe = yaml.safe_load((tmp_path / "r.yaml").read_text())
    assert recipe["image_size"] == 16 and recipe["val_fraction"] == 0.0
    r = runner.invoke(app, ["glyphs", "recipe", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "does not exist" in " ".join(r.output.split())
    r = runner.invoke(app, ["glyphs", "oneshot", str(run), "--checkpoint", "middle"])
    assert r.exit_code == 2 and "best, last" in " ".join(r.output.split())
