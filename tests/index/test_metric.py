"""Gallery metrics against siamkit's torch distances and against FAISS's own scores."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
import torch

from siamkit.distances import get_distance
from siamkit.index import get_metric
from siamkit.index.metric import METRICS


@pytest.mark.parametrize("name", sorted(METRICS))
def test_numpy_distances_match_siamkit_distances(name: str) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(7, 6)).astype(np.float32)
    ref = get_distance(name).matrix(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(get_metric(name).pairwise(a, b), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_faiss_scores_map_back_to_the_distance(name: str) -> None:
    rng = np.random.default_rng(1)
    base, q = rng.normal(size=(50, 8)), rng.normal(size=(4, 8))
    m = get_metric(name)
    metric = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT, "l1": faiss.METRIC_L1}
    index = faiss.IndexFlat(8, metric[m.faiss_metric])
    index.add(m.prepare(base))
    scores, _ = index.search(m.prepare(q), 3)
    expected = np.sort(m.pairwise(q, base), axis=1)[:, :3]
    np.testing.assert_allclose(m.from_faiss(scores), expected, rtol=1e-4, atol=1e-4)


def test_unknown_distance_names_the_choices() -> None:
    with pytest.raises(
        ValueError, match="supports: euclidean, squared_euclidean, cosine, manhattan"
    ):
        get_metric("mahalanobis")
