"""Distances against scipy's cdist, hand-worked 2-D values and the registry's contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from siamkit.distances import DISTANCES, Distance, get_distance

# siamkit name -> scipy cdist metric
SCIPY_METRIC = {
    "euclidean": "euclidean",
    "squared_euclidean": "sqeuclidean",
    "cosine": "cosine",
    "manhattan": "cityblock",
}
NAMES = sorted(SCIPY_METRIC)


def _data(n: int, m: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d))


def test_registry_holds_the_four_fixed_distances_and_a_learned_one() -> None:
    from siamkit.distances import is_learned

    assert [n for n in DISTANCES.names() if not is_learned(n)] == NAMES
    assert [n for n in DISTANCES.names() if is_learned(n)] == ["mahalanobis"]


@pytest.mark.parametrize("name", NAMES)
def test_pairwise_matches_scipy(name: str) -> None:
    a, b = _data(11, 11, 5, seed=1)
    got = get_distance(name).pairwise(torch.from_numpy(a), torch.from_numpy(b))
    want = np.array(
        [cdist(a[i : i + 1], b[i : i + 1], SCIPY_METRIC[name])[0, 0] for i in range(11)]
    )
    assert got.shape == (11,)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_matches_scipy(name: str) -> None:
    a, b = _data(9, 7, 4, seed=2)
    got = get_distance(name).matrix(torch.from_numpy(a), torch.from_numpy(b))
    assert got.shape == (9, 7)
    np.testing.assert_allclose(got.numpy(), cdist(a, b, SCIPY_METRIC[name]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunk_size", [1, 3, 4, 100])
def test_chunked_matrix_equals_unchunked_and_scipy(name: str, chunk_size: int) -> None:
    a, b = _data(10, 6, 3, seed=3)
    dist = get_distance(name)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    chunked = dist.matrix(ta, tb, chunk_size=chunk_size)
    whole = dist.matrix(ta, tb)
    assert chunked.shape == (10, 6)
    torch.testing.assert_close(chunked, whole, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.numpy(), cdist(a, b, SCIPY_METRIC[name]), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_defaults_b_to_a(name: str) -> None:
    a, _ = _data(8, 1, 3, seed=4)
    got = get_distance(name).matrix(torch.from_numpy(a), chunk_size=3)
    assert got.shape == (8, 8)
    np.testing.assert_allclose(got.numpy(), cdist(a, a, SCIPY_METRIC[name]), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_of_empty_set_has_zero_rows(name: str) -> None:
    got = get_distance(name).matrix(torch.zeros(0, 3), torch.ones(4, 3))
    assert got.shape == (0, 4)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_rejects_non_positive_chunk_size(name: str) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        get_distance(name).matrix(torch.ones(2, 2), chunk_size=0)


# (name, a, b, hand-worked value)
HAND_WORKED = [
    ("euclidean", (0.0, 0.0), (3.0, 4.0), 5.0),
    ("squared_euclidean", (0.0, 0.0), (3.0, 4.0), 25.0),
    ("manhattan", (0.0, 0.0), (3.0, 4.0), 7.0),
    ("manhattan", (1.0, -2.0), (-1.0, 1.0), 5.0),
    ("euclidean", (1.0, 1.0), (4.0, 5.0), 5.0),
    ("cosine", (1.0, 0.0), (0.0, 1.0), 1.0),
    ("cosine", (1.0, 0.0), (2.0, 0.0), 0.0),
    ("cosine", (1.0, 0.0), (-3.0, 0.0), 2.0),
    ("cosine", (1.0, 1.0), (1.0, 0.0), 1.0 - 1.0 / math.sqrt(2.0)),
]


@pytest.mark.parametrize(("name", "a", "b", "want"), HAND_WORKED)
def test_hand_worked_2d_values(
    name: str, a: tuple[float, float], b: tuple[float, float], want: float
) -> None:
    dist = get_distance(name)
    ta, tb = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    assert dist.pairwise(ta, tb).item() == pytest.approx(want, abs=1e-6)
    assert dist.matrix(ta, tb).item() == pytest.approx(want, abs=1e-6)
    # symmetric
    assert dist.pairwise(tb, ta).item() == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_larger_is_not_closer_and_closeness_negates(name: str) -> None:
    dist = get_distance(name)
    assert dist.larger_is_closer is False
    values = torch.tensor([0.0, 1.5, -2.0, 7.25])
    torch.testing.assert_close(dist.closeness(values), torch.tensor([0.0, -1.5, 2.0, -7.25]))
    # the closer pair gets the larger closeness score
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[1.0, 0.1], [-3.0, 4.0]])
    score = dist.closeness(dist.pairwise(a, b))
    assert score[0] > score[1]


def test_get_distance_returns_instances_and_passes_objects_through() -> None:
    for name in NAMES:
        dist = get_distance(name)
        assert isinstance(dist, Distance)
        assert dist.name == name
    obj = get_distance("cosine")
    assert get_distance(obj) is obj


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="choose one of") as err:
        get_distance("hamming")
    message = str(err.value)
    assert "hamming" in message
    for name in NAMES:
        assert name in message


@pytest.mark.parametrize("name", NAMES)
def test_shape_errors(name: str) -> None:
    dist = get_distance(name)
    with pytest.raises(ValueError, match="2-D"):
        dist.pairwise(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="2-D"):
        dist.matrix(torch.ones(3))
    with pytest.raises(ValueError, match="2-D"):
        dist.matrix(torch.ones(2, 3), torch.ones(2, 3, 1))
    with pytest.raises(ValueError, match="embedding sizes differ"):
        dist.pairwise(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="embedding sizes differ"):
        dist.matrix(torch.ones(2, 3), torch.ones(5, 4))
    with pytest.raises(ValueError, match="equal length"):
        dist.pairwise(torch.ones(2, 3), torch.ones(3, 3))
    # the matrix does not need equal lengths
    assert dist.matrix(torch.ones(2, 3), torch.ones(3, 3)).shape == (2, 3)


def test_euclidean_gradient_is_finite_at_identical_points() -> None:
    dist = get_distance("euclidean")
    a = torch.tensor([[1.0, 2.0], [0.5, -0.5]], dtype=torch.float64, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    d = dist.pairwise(a, b)
    assert d.detach().abs().max().item() < 1e-5
    d.sum().backward()
    assert a.grad is not None and b.grad is not None
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()

    c = torch.tensor([[1.0, 2.0], [0.5, -0.5], [3.0, 3.0]], requires_grad=True)
    m = dist.matrix(c)  # the diagonal holds identical points
    m.sum().backward()
    assert c.grad is not None
    assert torch.isfinite(c.grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_pairwise_gradcheck(name: str) -> None:
    rng = np.random.default_rng(5)
    a = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    # keep every coordinate difference well away from 0 (manhattan's kink)
    b = torch.tensor(a.detach().numpy() + rng.choice([-1.0, 1.0], size=(4, 3)), requires_grad=True)
    dist = get_distance(name)
    assert torch.autograd.gradcheck(dist.pairwise, (a, b))
    assert torch.autograd.gradcheck(lambda x, y: dist.matrix(x, y, chunk_size=3), (a, b))
