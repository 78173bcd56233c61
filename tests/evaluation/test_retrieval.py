"""nearest_neighbour and precision_at_1 against scikit-learn and hand-made 2-D examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors
from torch import Tensor

from siamkit.distances import Distance, get_distance
from siamkit.evaluation import nearest_neighbour, precision_at_1

SKLEARN_METRIC = {
    "euclidean": "euclidean",
    "squared_euclidean": "euclidean",  # same order as euclidean
    "manhattan": "manhattan",
    "cosine": "cosine",
}


def _sklearn_nn(x: np.ndarray, metric: str) -> np.ndarray:
    """Index of each row's nearest other row, by scikit-learn (self dropped)."""
    nn = NearestNeighbors(n_neighbors=2, metric=metric, algorithm="brute").fit(x)
    idx = nn.kneighbors(x, return_distance=False)
    own = np.arange(len(x))
    assert (idx[:, 0] == own).all()  # no duplicates: self comes first
    return idx[:, 1]


@pytest.mark.parametrize("name", sorted(SKLEARN_METRIC))
@pytest.mark.parametrize("chunk_size", [1, 7, 16, 1024])
def test_nearest_neighbour_matches_sklearn(name: str, chunk_size: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    got = nearest_neighbour(torch.from_numpy(x), get_distance(name), chunk_size=chunk_size)
    assert got.shape == (40,)
    assert got.dtype == torch.long
    np.testing.assert_array_equal(got.numpy(), _sklearn_nn(x, SKLEARN_METRIC[name]))


@pytest.mark.parametrize("name", ["euclidean", "manhattan"])
@pytest.mark.parametrize("seed", range(3))
def test_precision_at_1_matches_sklearn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=50)
    centres = rng.normal(scale=2.0, size=(4, 3))
    x = centres[labels] + rng.normal(size=(50, 3))
    nn_idx = _sklearn_nn(x, SKLEARN_METRIC[name])
    want = float((labels[nn_idx] == labels).mean())
    got = precision_at_1(torch.from_numpy(x), torch.from_numpy(labels), get_distance(name))
    assert 0.0 < want < 1.0  # a meaningful case
    assert got == pytest.approx(want, abs=1e-6)  # the mean is taken in float32


# Two tight clusters; (0, 0.2) is labelled 1 but lives in cluster 0.
#   0 (0,0)    L0 -> nearest 1 (0.1)  vs 2 (0.2)           correct
#   1 (0.1,0)  L0 -> nearest 0 (0.1)                       correct
#   2 (0,0.2)  L1 -> nearest 0 (0.2)  vs 1 (sqrt .05≈.224) wrong
#   3 (5,5)    L1 -> nearest 4 (0.1)                       correct
#   4 (5.1,5)  L1 -> nearest 3 (0.1)                       correct
#   5 (5,5.2)  L1 -> nearest 3 (0.2)  vs 4 (≈.224)         correct
POINTS = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.2], [5.0, 5.0], [5.1, 5.0], [5.0, 5.2]])
LABELS = torch.tensor([0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("chunk_size", [1, 4, 1024])
def test_hand_made_two_clusters(chunk_size: int) -> None:
    got = nearest_neighbour(POINTS, get_distance("euclidean"), chunk_size=chunk_size)
    assert got.tolist() == [1, 0, 0, 4, 3, 3]


@pytest.mark.parametrize("name", ["euclidean", "squared_euclidean", "manhattan"])
def test_hand_made_precision_at_1(name: str) -> None:
    assert precision_at_1(POINTS, LABELS, get_distance(name)) == pytest.approx(5 / 6)


def test_precision_at_1_is_one_on_clean_clusters() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert precision_at_1(POINTS, labels, get_distance("euclidean")) == 1.0


def test_self_is_never_its_own_neighbour_even_with_duplicates() -> None:
    x = torch.tensor([[1.0, 1.0], [1.0, 1.0], [9.0, 9.0], [9.0, 9.0]])
    got = nearest_neighbour(x, get_distance("euclidean"), chunk_size=3)
    assert got.tolist() == [1, 0, 3, 2]


class _DotSimilarity(Distance):
    """A similarity (larger = closer), to exercise that branch."""

    name = "dot"
    larger_is_closer = True

    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return (a * b).sum(1)

    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b.T


@pytest.mark.parametrize("chunk_size", [1, 5, 1024])
def test_similarity_neighbour_equals_loop(chunk_size: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3))
    want = []
    for i in range(12):
        best, best_j = -np.inf, -1
        for j in range(12):
            if j != i and float(x[i] @ x[j]) > best:
                best, best_j = float(x[i] @ x[j]), j
        want.append(best_j)
    got = nearest_neighbour(torch.from_numpy(x), _DotSimilarity(), chunk_size=chunk_size)
    assert got.tolist() == want


def test_fewer_than_two_items_raise() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        nearest_neighbour(torch.zeros(1, 3), get_distance("euclidean"))
