"""End to end on a tiny synthetic set: render, train on cedar:DIR, calibrate on validation
writers, rate held-out writers, `siamkit verify` and the gallery on a questioned signature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.data.inputs import load_inputs
from siamkit.evaluation import embed_all
from siamkit.training import TrainConfig, load_run, train

from .hands import hands_for_tests

runner = CliRunner()


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def signature_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(set folder, calibrated run): 8 writers (train 1-4, val 5-6, eval 7-8), 1 epoch."""
    root = tmp_path_factory.mktemp("sig")
    sigs, run = root / "sigs", root / "run"
    fonts = [str(h.path) for h in hands_for_tests()]
    _ok(["signatures", "render", "--out", str(sigs), "--writers", "8", "--val-writers", "2",
         "--eval-writers", "2", "--genuine", "4", "--forgeries", "4", "--seed", "0",
         *[a for f in fonts for a in ("--font", f)]])  # fmt: skip
    cfg = TrainConfig(
        data=f"cedar:{sigs}",
        train_classes="1-6",
        val_classes="5-6",
        val_fraction=0.0,
        refit=False,  # the thresholds are fitted on writers 5-6: never trained on
        eval_classes="7-8",
        image_size=24,
        widths=[8, 16],
        embedding_dim=16,
        loss="multi_similarity",
        epochs=1,
        batch_size=16,
        val_pairs=100,
        out=str(run),
    )
    train(cfg, progress=False)
    _ok(["calibrate", str(run), "--classes", "5-6", "--pairs", "200", "--test-fraction", "0"])
    return sigs, run


def _embed(run: Path, files: list[Path]) -> torch.Tensor:
    loaded = load_run(run)
    x, _ = load_inputs([str(f) for f in files], loaded.spec)
    return embed_all(loaded.model, x)


def test_evaluate_rates_match_a_plain_loop(signature_run: tuple[Path, Path]) -> None:
    sigs, run = signature_run
    report = json.loads(_ok(["signatures", "evaluate", str(run), "--json"]))
    cal = json.loads((run / "calibration.json").read_text())
    assert report["writers"] == ["7", "8"]
    assert report["threshold"] == pytest.approx(cal["threshold"])
    assert report["threshold_source"] == "calibration.json"
    assert (report["genuine_signatures"], report["forgeries"]) == (8, 8)
    thr = cal["threshold"]
    gen = {w: [sigs / "full_org" / f"original_{w}_{s}.png" for s in range(1, 5)] for w in (7, 8)}
    forg = {w: [sigs / "full_forg" / f"forgeries_{w}_{s}.png" for s in range(1, 5)] for w in (7, 8)}
    rejected_gen = accepted_forg = n_gen = n_forg = 0
    for w in (7, 8):
        g, f = _embed(run, gen[w]), _embed(run, forg[w])
        for i in range(4):
            for j in range(i + 1, 4):
                n_gen += 1
                rejected_gen += float(torch.dist(g[i], g[j])) > thr
            for k in range(4):
                n_forg += 1
                accepted_forg += float(torch.dist(g[i], f[k])) <= thr
    assert report["skilled"]["frr"] == pytest.approx(rejected_gen / n_gen, abs=1e-9)
    assert report["skilled"]["far"] == pytest.approx(accepted_forg / n_forg, abs=1e-9)
    assert (report["skilled"]["genuine_pairs"], report["skilled"]["forgery_pairs"]) == (12, 32)
    assert report["random"]["forgery_pairs"] == 8 * 4  # 4 of the other writer's, each


def test_verify_and_gallery_on_a_questioned_signature(
    signature_run: tuple[Path, Path], tmp_path: Path
) -> None:
    sigs, run = signature_run
    refs = [sigs / "full_org" / f"original_7_{s}.png" for s in (1, 2, 3)]
    questioned = sigs / "full_forg" / "forgeries_7_1.png"
    thr = json.loads((run / "calibration.json").read_text())["threshold"]
    emb = _embed(run, [*refs, questioned])
    expected = [float(torch.dist(emb[i], emb[3])) for i in range(3)]

    v = json.loads(_ok(["verify", str(run), str(refs[0]), str(questioned), "--json"]))
    assert v["distance"] == pytest.approx(expected[0], abs=1e-5)
    assert v["threshold"] == pytest.approx(thr)
    assert v["same"] == (expected[0] <= thr)

    gal = tmp_path / "gal"
    _ok(["gallery", "create", str(gal), "--model", str(run)])
    _ok(["gallery", "enroll", str(gal), *map(str, refs), "--label", "writer-7"])
    g = json.loads(
        _ok(["gallery", "verify", str(gal), str(questioned), "--label", "writer-7", "--json"])
    )
    assert g["items"] == 3
    assert g["distance"] == pytest.approx(min(expected), abs=1e-5)  # policy max: closest item
    assert g["same"] == (min(expected) <= g["threshold"])
    assert g["threshold"] == pytest.approx(thr)
    assert np.isfinite(g["probability"])


def test_signature_calibration_fits_genuine_against_skilled_on_validation_writers(
    signature_run: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from siamkit.apps.signatures.calibration import _pairs
    from siamkit.apps.signatures.evaluate import signature_distances
    from siamkit.evaluation.calibration import fit_threshold

    sigs, trained = signature_run
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    cal = json.loads(_ok(["signatures", "calibrate", str(run), "--json"]))
    assert cal["source"]["calibration_classes"] == ["5", "6"]  # the run's validation writers
    assert cal["source"]["eval_classes_used"] == []
    d = signature_distances(load_run(run), sigs, "5-6", 10, 0)
    same, dist = _pairs(d, "skilled", 0)
    assert same.sum() == len(d.genuine) == 12 and (1 - same).sum() == 12  # balanced
    assert set(dist[same == 0]) <= set(d.skilled)
    assert cal["threshold"] == pytest.approx(fit_threshold(same, dist))
    report = json.loads(_ok(["signatures", "evaluate", str(run), "--json"]))
    assert report["threshold"] == pytest.approx(cal["threshold"])
    r = runner.invoke(app, ["signatures", "calibrate", str(run), "--against", "forged"])
    assert r.exit_code == 2 and "skilled, random, both" in r.output
