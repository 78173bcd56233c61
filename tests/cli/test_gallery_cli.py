"""``siamkit gallery``: every command on an image run, checked against the run's own embeddings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.data import load_data
from siamkit.evaluation import embed_all
from siamkit.run import Calibration
from siamkit.training import TrainConfig, load_run, train

runner = CliRunner()
NAMES = {5: "five", 6: "six", 7: "seven"}


def _png(path: Path, image: torch.Tensor) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image[0].numpy() * 255).round().astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def calibrated_run(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's run, calibrated (the shared run stays as it is)."""
    run = tmp_path_factory.mktemp("cal") / "run"
    shutil.copytree(trained_run, run)
    r = runner.invoke(app, ["calibrate", str(run), "--pairs", "2000"])
    assert r.exit_code == 0, r.output
    return run


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """people/<name>/k.png for digits 5, 6, 7 (4 each), plus probes and a CSV of two sevens."""
    root = tmp_path_factory.mktemp("faces")
    data = load_data("digits")
    for digit, name in NAMES.items():
        idx = (data.y == digit).nonzero().flatten()
        for k in range(4):
            _png(root / "people" / name / f"{k}.png", data.x[idx[k]])
        _png(root / "probes" / f"{name}.png", data.x[idx[10]])
    (root / "extra.csv").write_text("path,label\npeople/seven/0.png,seven-again\n")
    return root


def _tiny(out: Path) -> TrainConfig:
    """Another small digits run (seed 1): a different model from the session's."""
    return TrainConfig(
        data="digits",
        train_classes="0-4",
        eval_classes="5-9",
        epochs=1,
        batch_size=64,
        widths=[8, 16],
        embedding_dim=16,
        val_pairs=500,
        out=str(out),
        seed=1,
    )


def _run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["gallery", *args])
    return r.exit_code, r.stdout, " ".join(r.output.split())  # rich wraps long lines


def _embed(run: Path, files: list[Path]) -> np.ndarray:
    from siamkit.data.images import load_image

    x = torch.stack([load_image(f, 1, (8, 8)) for f in files])
    return embed_all(load_run(run).model, x).numpy().astype(np.float64)


def _new_gallery(run: Path, tmp_path: Path) -> str:
    """An empty gallery for ``run``, made with ``siamkit gallery create``."""
    g = str(tmp_path / "g")
    assert runner.invoke(app, ["gallery", "create", g, "--model", str(run)]).exit_code == 0
    return g


def test_every_command(calibrated_run: Path, faces: Path, tmp_path: Path) -> None:
    g = str(tmp_path / "g")
    code, _, out = _run("create", g, "--model", str(calibrated_run))
    assert code == 0 and "created gallery" in out, out
    code, _, out = _run("enroll", g, str(faces / "people"))
    assert code == 0 and "enrolled 12 items" in out, out
    code, _, out = _run(
        "enroll", g, str(faces / "probes" / "six.png"), "--label", "six", "--metadata", '{"cam": 2}'
    )
    assert code == 0 and "holds 13" in out, out
    code, _, out = _run("enroll", g, str(faces / "extra.csv"))
    assert code == 0 and "holds 14" in out, out

    # identify: ranked identities, distances and probabilities as the run computes them
    probe = faces / "probes" / "five.png"
    code, stdout, out = _run("identify", g, str(probe), "--k", "3", "--json")
    assert code == 0, out
    (res,) = json.loads(stdout)
    files = {name: sorted((faces / "people" / name).glob("*.png")) for name in NAMES.values()}
    enrolled = [(name, f) for name, fs in files.items() for f in fs]
    enrolled += [("six", faces / "probes" / "six.png"), ("seven-again", files["seven"][0])]
    q = _embed(calibrated_run, [probe])
    d_items = np.linalg.norm(_embed(calibrated_run, [f for _, f in enrolled]) - q, axis=1)
    expected: dict[str, float] = {}
    for (name, _), d in zip(enrolled, d_items):  # plain loop: closest item per identity
        expected[name] = min(expected.get(name, np.inf), float(d))
    ranked = sorted(expected.items(), key=lambda kv: kv[1])[:3]
    got = [(c["label"], c["distance"]) for c in res["candidates"]]
    assert [d for _, d in got] == pytest.approx([d for _, d in ranked], abs=1e-4)
    # seven and seven-again share an image: their order may go either way
    assert {lab for lab, _ in got} == {lab for lab, _ in ranked}
    cal = Calibration.load(calibrated_run)
    assert cal is not None
    for c in res["candidates"]:
        assert c["probability"] == pytest.approx(
            float(cal.probability_map.predict([c["distance"]])[0])
        )
        assert c["accepted"] == (c["distance"] <= cal.threshold)
    assert res["unknown"] == (ranked[0][1] > cal.threshold)
    code, stdout, out = _run("identify", g, str(probe))
    assert code == 0 and "rank" in stdout and "identity" in stdout

    # verify with both policies against a plain computation
    six = _embed(calibrated_run, [*files["six"], faces / "probes" / "six.png"])
    d = np.linalg.norm(six - q, axis=1)
    for policy, value in (("max", d.min()), ("mean", d.mean())):
        code, stdout, out = _run(
            "verify", g, str(probe), "--label", "six", "--policy", policy, "--json"
        )
        assert code == 0, out
        r = json.loads(stdout)
        assert r["distance"] == pytest.approx(value, abs=1e-4) and r["items"] == 5
        assert r["same"] == (value <= cal.threshold)
    code, stdout, _ = _run("verify", g, str(probe), "--label", "six")
    assert code == 0 and "six (5 items, max)" in stdout

    # similar, list, stats
    code, stdout, out = _run("similar", g, "1", "--k", "3", "--json")
    assert code == 0, out
    near = json.loads(stdout)
    assert len(near) == 3 and all(n["item_id"] != 1 for n in near)
    assert near == sorted(near, key=lambda n: n["distance"])
    code, stdout, _ = _run("list", g, "--label", "six", "--json")
    six_items = json.loads(stdout)
    assert [it["label"] for it in six_items] == ["six"] * 5
    assert six_items[-1]["metadata"] == {"cam": 2} and six_items[-1]["source"].endswith("six.png")
    code, stdout, _ = _run("stats", g, "--json")
    stats = json.loads(stdout)
    assert (stats["items"], stats["identities"], stats["index"]) == (14, 4, "flat")
    assert stats["threshold"] == pytest.approx(cal.threshold)
    code, stdout, _ = _run("list", g)
    assert code == 0 and "seven-again" in stdout

    # remove by id and by label; unknown ones change nothing
    code, _, out = _run("remove", g, "1", "99")
    assert code == 2 and "no item with id 99" in out
    code, _, out = _run("remove", g, "1", "2")
    assert code == 0 and "holds 12" in out, out
    code, _, out = _run("remove", g, "--label", "seven-again")
    assert code == 0 and "removed 1 items; the gallery holds 11" in out, out
    code, _, out = _run("remove", g)
    assert code == 2 and "give item ids or --label" in out


def test_unknown_beyond_the_threshold_and_reembed(
    trained_run: Path, faces: Path, tmp_path: Path
) -> None:
    g = str(tmp_path / "g")
    assert _run("create", g, "--model", str(trained_run), "--threshold", "1e-6")[0] == 0
    assert _run("enroll", g, str(faces / "people"))[0] == 0
    code, stdout, out = _run("identify", g, str(faces / "probes" / "five.png"))
    assert code == 0 and "unknown" in stdout, out
    code, stdout, _ = _run("identify", g, str(faces / "people" / "five" / "0.png"), "--json")
    assert json.loads(stdout)[0]["label"] == "five"  # an enrolled image is at distance 0
    # another model: refused for queries until the gallery is re-embedded
    other = tmp_path / "other"
    train(_tiny(other), progress=False)
    code, _, out = _run("reembed", g, "--model", str(other))
    assert code == 0 and "re-embedded 12 items" in out, out
    code, stdout, _ = _run("stats", g, "--json")
    assert json.loads(stdout)["model"] == str(other.resolve())
    code, stdout, _ = _run("identify", g, str(faces / "people" / "six" / "1.png"), "--json")
    assert json.loads(stdout)[0]["candidates"][0]["distance"] == pytest.approx(0, abs=1e-4)


def test_bad_input_exits_2_with_a_message(trained_run: Path, faces: Path, tmp_path: Path) -> None:
    code, _, out = _run("identify", str(tmp_path / "nothing"), "x.png")
    assert code == 2 and "is not a gallery" in out
    g = str(tmp_path / "g")
    assert _run("create", g, "--model", str(trained_run))[0] == 0
    code, _, out = _run("create", g, "--model", str(trained_run))
    assert code == 2 and "not empty" in out
    code, _, out = _run("create", str(tmp_path / "h"), "--model", str(tmp_path))
    assert code == 2 and "not a finished siamkit run" in out
    code, _, out = _run("enroll", g, str(faces / "missing.png"), "--label", "x")
    assert code == 2 and "does not exist" in out
    code, _, out = _run("enroll", g, str(faces / "probes" / "six.png"))
    assert code == 2 and "has no identity" in out
    code, _, out = _run(
        "enroll", g, str(faces / "probes" / "six.png"), "--label", "x", "--metadata", "{"
    )
    assert code == 2 and "--metadata is not valid JSON" in out
    code, _, out = _run("verify", g, str(faces / "probes" / "six.png"), "--label", "nobody")
    assert code == 2 and "no identity 'nobody'" in out
    code, _, out = _run("similar", g, "5")
    assert code == 2 and "no item with id 5" in out
    code, _, out = _run(
        "create", str(tmp_path / "k"), "--model", str(trained_run), "--index", "ivf"
    )
    assert code == 2 and "unknown index kind 'ivf'" in out
    code, stdout, _ = _run("stats", g, "--json")
    assert json.loads(stdout)["items"] == 0


@pytest.mark.parametrize("bad", ["nan", "inf", "-1"])
def test_create_refuses_a_non_finite_or_negative_threshold(
    trained_run: Path, tmp_path: Path, bad: str
) -> None:
    r = runner.invoke(
        app,
        ["gallery", "create", str(tmp_path / "g"), "--model", str(trained_run), "--threshold", bad],
    )
    assert r.exit_code == 2, r.output
    assert "threshold" in r.output and not (tmp_path / "g").exists()


def test_ids_beyond_2_63_are_refused_without_a_traceback(trained_run: Path, tmp_path: Path) -> None:
    g = _new_gallery(trained_run, tmp_path)
    for args in (["remove", g, str(2**64)], ["similar", g, str(2**63)]):
        r = runner.invoke(app, ["gallery", *args])
        assert r.exit_code == 2, r.output
        assert "item ids run from 1 to" in r.output and "Traceback" not in r.output


def test_list_never_prints_raw_control_characters(tmp_path: Path) -> None:
    import sqlite3

    from index.fakes import VectorEmbedder
    from siamkit.index import Gallery

    with Gallery.create(tmp_path / "g", VectorEmbedder()) as g:
        g.enroll_embeddings(np.ones((1, 4), np.float32), "plain", sources=["a.npy[0]"])
    # a label written before labels were checked (an older siamkit, or by hand)
    with sqlite3.connect(tmp_path / "g" / "gallery.db") as db:
        db.execute("UPDATE items SET label = ?, source = ?", ("ev\x1b[31mil\n[red]x", "s\x07"))
    r = runner.invoke(app, ["gallery", "list", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\x07" not in r.output
    assert "\\x1b" in r.output and "\\x07" in r.output  # shown escaped


def test_enroll_refuses_an_overlong_or_control_label(
    calibrated_run: Path, faces: Path, tmp_path: Path
) -> None:
    g = _new_gallery(calibrated_run, tmp_path)
    png = str(faces / "probes" / "five.png")
    r = runner.invoke(app, ["gallery", "enroll", g, png, "--label", "x" * 300])
    assert r.exit_code == 2 and "limited to 256" in r.output
    r = runner.invoke(app, ["gallery", "enroll", g, png, "--label", "a\x1bb"])
    assert r.exit_code == 2 and "control character" in r.output
    r = runner.invoke(
        app,
        ["gallery", "enroll", g, png, "--label", "a", "--metadata", '{"b": "%s"}' % ("y" * 20000)],
    )
    assert r.exit_code == 2 and "limited to 16384 bytes" in " ".join(r.output.split())


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
def test_serve_refuses_a_port_outside_1_to_65535(trained_run: Path, port: str) -> None:
    r = runner.invoke(app, ["serve", str(trained_run), "--read-only", "--port", port])
    assert r.exit_code == 2, r.output
    assert "from 1 to 65535" in " ".join(r.output.split()) and "serving" not in r.output


def test_identify_json_speaks_the_service_vocabulary_too(
    calibrated_run: Path, faces: Path, tmp_path: Path
) -> None:
    g = _new_gallery(calibrated_run, tmp_path)
    assert runner.invoke(app, ["gallery", "enroll", g, str(faces / "people")]).exit_code == 0
    r = runner.invoke(app, ["gallery", "identify", g, str(faces / "probes" / "six.png"), "--json"])
    assert r.exit_code == 0, r.output
    (res,) = json.loads(r.stdout)
    assert res["known"] == (not res["unknown"])
    assert [(m["id"], m["label"], m["same"]) for m in res["matches"]] == [
        (c["item_id"], c["label"], c["accepted"]) for c in res["candidates"]
    ]
    r = runner.invoke(app, ["gallery", "similar", g, "1", "--k", "2", "--json"])
    assert all(n["id"] == n["item_id"] for n in json.loads(r.stdout))


def test_enroll_warns_on_a_repeated_file_and_louder_under_another_label(
    calibrated_run: Path, faces: Path, tmp_path: Path
) -> None:
    g = _new_gallery(calibrated_run, tmp_path)
    png = str(faces / "probes" / "five.png")
    assert runner.invoke(app, ["gallery", "enroll", g, png, "--label", "five"]).exit_code == 0
    r = runner.invoke(app, ["gallery", "enroll", g, png, "--label", "five"])
    assert r.exit_code == 0 and "warning" in r.output and "more than once" in r.output
    r = runner.invoke(app, ["gallery", "enroll", g, png, "--label", "six"])
    assert r.exit_code == 0 and "under two labels, 'five'" in " ".join(r.output.split())
