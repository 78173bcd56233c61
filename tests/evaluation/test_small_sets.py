"""A handful of items (a few photos of two people) is evaluated, not refused: the k-NN figure
votes with every reference item when there are fewer than five."""

from __future__ import annotations

from pathlib import Path

import torch

from siamkit import load_run
from siamkit.data.labelled import LabelledData
from siamkit.evaluation import evaluate_suite, knn_classify
from siamkit.evaluation.suite import KNN_K, _half_split


def test_six_items_of_two_classes_are_evaluated_with_k_as_large_as_the_reference(
    trained_run: Path,
) -> None:
    run = load_run(trained_run)
    x = torch.rand(6, *run.spec.input_shape, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    suite = evaluate_suite(
        run.model, LabelledData(x, y, ["ann", "bob"], "image"), num_pairs=20, n_boot=10
    )
    ref, test = _half_split(y, 0)
    assert len(ref) < KNN_K
    with torch.no_grad():
        emb = run.model.embed(x)
    pred = knn_classify(emb[ref], y[ref], emb[test], k=len(ref), distance=run.model.distance)
    expected = float((pred == y[test]).float().mean())
    assert suite.classification["knn"].accuracy == expected
