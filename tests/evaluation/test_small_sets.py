"""A handful of items (a few photos of two people) is evaluated, not refused: the k-NN figure
takes as many neighbours as the smallest class has reference items, so the larger class cannot
outvote the embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from siamkit import load_run
from siamkit.data.labelled import LabelledData
from siamkit.evaluation import evaluate_suite, knn_classify
from siamkit.evaluation.suite import KNN_K, _half_split


def test_a_few_unbalanced_items_are_evaluated_with_k_no_larger_than_the_smallest_class(
    trained_run: Path,
) -> None:
    run = load_run(trained_run)
    x = torch.rand(8, *run.spec.input_shape, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1])  # five of ann, three of bob
    suite = evaluate_suite(
        run.model, LabelledData(x, y, ["ann", "bob"], "image"), num_pairs=20, n_boot=10
    )
    ref, test = _half_split(y, 0)
    assert sorted(y[ref].tolist()) == [0, 0, 1]  # reference: two of ann, one of bob
    with torch.no_grad():
        emb = run.model.embed(x)
    # by hand: k = 1 (bob has one reference item), so each query takes its nearest item's label
    assert run.model.distance.name == "euclidean"
    d = torch.cdist(emb[test], emb[ref])  # (test, reference) Euclidean distances
    nearest = y[ref][d.argmin(dim=1)]
    by_hand = float((nearest == y[test]).double().mean())
    assert suite.classification["knn"].accuracy == pytest.approx(by_hand, abs=1e-12)
    # with every reference item voting (k = 3) every query would be "ann", whatever it looks like
    everyone = knn_classify(emb[ref], y[ref], emb[test], k=3, distance=run.model.distance)
    assert everyone.tolist() == [0] * len(test) and len(ref) < KNN_K
