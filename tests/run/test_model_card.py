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
    _, record = evaluate_run(run, num_pairs=400, n_boot=0, episodes=20)
    card = (run / "README.md").read_text()  # rewritten by the evaluation
    ret, ver = record["retrieval"], record["verification"]
    assert f"| precision@1 | {ret['precision_at_1']:.4f} |" in card
    assert f"| MAP@R | {ret['map_at_r']:.4f} |" in card
    assert f"| ROC-AUC | {ver['roc_auc']['value']:.4f} |" in card
    rule = open_run(run).decision_rule(larger_is_closer=False)
    assert rule is not None and f"distance <= {rule.threshold:.4f}" in card
    achieved = record["operating_point"]
    assert f"FAR {achieved['far']:.4f}" in card
