"""The run's model card shows the records it is written from."""

from __future__ import annotations

import shutil
from pathlib import Path

from siamkit.evaluation.run_eval import evaluate_run
from siamkit.run import open_run, read_json, write_json
from siamkit.run.model_card import write_model_card


def test_the_card_shows_training_figures_and_threshold(trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    metrics = read_json(run / "metrics.json")
    metrics.pop("evaluation_best", None)  # other tests may have evaluated the shared run
    write_json(run / "metrics.json", metrics)
    card = write_model_card(run).read_text()
    assert "classes `0-4`" in card and "Not yet evaluated" in card
    _, record = evaluate_run(run, num_pairs=400, n_boot=50, episodes=20)
    card = (run / "README.md").read_text()  # rewritten by the evaluation
    ret, ver = record["retrieval"], record["verification"]
    assert f"| precision@1 | {ret['precision_at_1']:.4f} |" in card
    assert f"| MAP@R | {ret['map_at_r']:.4f} |" in card
    auc = ver["roc_auc"]
    assert f"| ROC-AUC | {auc['value']:.4f} | {auc['low']:.4f}-{auc['high']:.4f} |" in card
    rule = open_run(run).decision_rule(larger_is_closer=False)
    assert rule is not None and f"distance <= {rule.threshold:.4f}" in card
    achieved = record["operating_point"]
    assert f"FAR {achieved['far']:.4f}" in card


def test_the_card_names_a_calibration_and_its_target(trained_run: Path, tmp_path: Path) -> None:
    from siamkit.evaluation.calibrated_run import calibrate_run

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    cal = calibrate_run(run, target_far=0.1, num_pairs=1000)
    card = (run / "README.md").read_text()
    assert f"distance <= {cal.threshold:.4f} (`siamkit calibrate`)" in card
    rates = cal.test_rates or cal.calibration_rates
    assert "for a false accept rate of 0.1" in card and f"FAR {rates.far:.4f}" in card


def test_the_card_counts_epochs_in_words(trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    config = read_json(run / "config.json")
    for epochs, words in ((1, "1 epoch,"), (3, "3 epochs,")):
        config["train"]["epochs"] = epochs
        write_json(run / "config.json", config)
        assert words in write_model_card(run).read_text()
