"""The learned Mahalanobis distance against numpy's sqrt((x - y)ᵀ M (x - y)) with M = LᵀL."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from siamkit.distances import (
    DISTANCES,
    Distance,
    MahalanobisDistance,
    get_distance,
    is_learned,
)
from siamkit.models import MLPEncoder, SiameseNetwork

PARAMETER_FREE = ["cosine", "euclidean", "manhattan", "squared_euclidean"]


def _with_weight(weight: np.ndarray) -> MahalanobisDistance:
    rank, dim = weight.shape
    d = MahalanobisDistance(dim, rank=rank)
    with torch.no_grad():
        d.weight.copy_(torch.from_numpy(weight))
    return d


def _reference(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(N, M) matrix sqrt((a_i - b_j)ᵀ M (a_i - b_j)) with a plain loop."""
    m = weight.T @ weight
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            diff = a[i] - b[j]
            out[i, j] = np.sqrt(diff @ m @ diff)
    return out


def test_registered_learned_and_smaller_is_closer() -> None:
    assert "mahalanobis" in DISTANCES
    d = get_distance("mahalanobis", dim=5)
    assert isinstance(d, MahalanobisDistance)
    assert isinstance(d, Distance)
    assert isinstance(d, torch.nn.Module)
    assert (d.name, d.dim, d.rank) == ("mahalanobis", 5, 5)
    assert d.learned is True and d.larger_is_closer is False
    assert Distance.learned is False
    torch.testing.assert_close(d.closeness(torch.tensor([1.0, -2.0])), torch.tensor([-1.0, 2.0]))
    assert "dim=5, rank=5" in repr(d)


def test_identity_init_equals_euclidean() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(9, 4)), rng.normal(size=(7, 4))
    d = MahalanobisDistance(4)
    torch.testing.assert_close(d.weight.detach(), torch.eye(4))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    got_m = d.matrix(ta, tb).detach()
    assert got_m.dtype == torch.float64
    np.testing.assert_allclose(got_m.numpy(), cdist(a, b), rtol=1e-6, atol=1e-6)
    got_p = d.pairwise(ta[:7], tb).detach().numpy()
    np.testing.assert_allclose(got_p, np.linalg.norm(a[:7] - b, axis=1), rtol=1e-6, atol=1e-6)


def test_low_rank_init_keeps_the_first_coordinates() -> None:
    d = MahalanobisDistance(5, rank=2)
    assert d.weight.shape == (2, 5)
    torch.testing.assert_close(d.weight.detach(), torch.eye(5)[:2])
    a = torch.tensor([[0.0, 0.0, 9.0, 9.0, 9.0]])
    b = torch.tensor([[3.0, 4.0, -9.0, 0.0, 1.0]])
    assert d.pairwise(a, b).item() == pytest.approx(5.0)


@pytest.mark.parametrize("rank", [4, 2])
def test_pairwise_and_matrix_match_numpy(rank: int) -> None:
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(rank, 4))
    a, b = rng.normal(size=(8, 4)), rng.normal(size=(6, 4))
    d = _with_weight(weight)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    want = _reference(a, b, weight)
    got = d.matrix(ta, tb).detach().numpy()
    assert got.shape == (8, 6)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    paired = d.pairwise(ta[:6], tb).detach().numpy()
    assert paired.shape == (6,)
    np.testing.assert_allclose(paired, np.diag(want[:6]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("chunk_size", [1, 3, 100])
def test_chunked_matrix_and_default_b(chunk_size: int) -> None:
    rng = np.random.default_rng(2)
    weight = rng.normal(size=(3, 3))
    a = rng.normal(size=(10, 3))
    d = _with_weight(weight)
    ta = torch.from_numpy(a)
    got = d.matrix(ta, chunk_size=chunk_size).detach()
    torch.testing.assert_close(got, d.matrix(ta, ta).detach())
    np.testing.assert_allclose(got.numpy(), _reference(a, a, weight), rtol=1e-5, atol=1e-5)
    assert d.matrix(torch.zeros(0, 3), ta).shape == (0, 10)
    with pytest.raises(ValueError, match="chunk_size"):
        d.matrix(ta, chunk_size=0)


def test_gradient_reaches_l_and_matches_the_formula() -> None:
    # d = ‖L δ‖ => ∂d/∂L = (L δ) δᵀ / ‖L δ‖
    rng = np.random.default_rng(3)
    weight = rng.normal(size=(3, 4))
    a, b = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))
    d = _with_weight(weight)
    d.pairwise(torch.from_numpy(a), torch.from_numpy(b)).sum().backward()
    assert d.weight.grad is not None
    delta = (a - b)[0]
    projected = weight @ delta
    want = np.outer(projected, delta) / np.linalg.norm(projected)
    np.testing.assert_allclose(d.weight.grad.numpy(), want, rtol=1e-4, atol=1e-5)


def test_gradients_are_finite_at_identical_points_and_reach_l_through_the_matrix() -> None:
    d = MahalanobisDistance(3)
    x = torch.randn(4, 3, requires_grad=True)
    m = d.matrix(x)  # the diagonal holds identical points
    m.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert d.weight.grad is not None and torch.isfinite(d.weight.grad).all()
    assert d.weight.grad.abs().sum() > 0


def test_gradcheck_in_float64() -> None:
    d = MahalanobisDistance(3, rank=2).double()
    with torch.no_grad():
        d.weight.copy_(torch.randn(2, 3, dtype=torch.float64))
    a = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(d.pairwise, (a, b))
    assert torch.autograd.gradcheck(lambda x, y: d.matrix(x, y, chunk_size=3), (a, b))


def test_metric_is_positive_semi_definite_even_after_training() -> None:
    torch.manual_seed(0)
    d = MahalanobisDistance(6, rank=3)
    with torch.no_grad():
        d.weight.copy_(torch.randn(3, 6))
    opt = torch.optim.SGD(d.parameters(), lr=0.5)
    for _ in range(20):
        a, b = torch.randn(16, 6), torch.randn(16, 6)
        opt.zero_grad()
        (-d.pairwise(a, b).mean()).backward()  # push to large, unconstrained L
        opt.step()
    # M = LᵀL formed in float64 from the trained float32 L (float32 rounding of a product with
    # eigenvalues ~1e2 alone is ~1e-5, which would hide nothing about the parametrisation)
    weight = d.weight.detach().double()
    metric = weight.T @ weight
    torch.testing.assert_close(metric, metric.T)
    eigenvalues = torch.linalg.eigvalsh(metric)
    assert eigenvalues.min().item() >= -1e-6
    assert (eigenvalues > 1e-3).sum().item() == 3  # rank <= 3
    torch.testing.assert_close(d.metric.detach().double(), metric, rtol=1e-5, atol=1e-4)


def test_part_of_a_siamese_networks_parameters_and_state_dict() -> None:
    torch.manual_seed(0)
    dist = MahalanobisDistance(4)
    net = SiameseNetwork(MLPEncoder(6, 4, hidden=(8,)), dist)
    assert net.distance is dist
    assert "distance.weight" in net.state_dict()
    assert any(p is dist.weight for p in net.parameters())
    x1, x2 = torch.randn(5, 6), torch.randn(5, 6)
    out = net(x1, x2)
    assert out.shape == (5,)
    out.sum().backward()
    assert dist.weight.grad is not None and dist.weight.grad.abs().sum() > 0

    # saving and loading carries L, and .to() moves it with the network
    with torch.no_grad():
        dist.weight.mul_(2.0)
    fresh = SiameseNetwork(MLPEncoder(6, 4, hidden=(8,)), MahalanobisDistance(4))
    fresh.load_state_dict(net.state_dict())
    assert isinstance(fresh.distance, MahalanobisDistance)
    torch.testing.assert_close(fresh.distance.weight, 2.0 * torch.eye(4))
    fresh.eval()
    net.eval()
    torch.testing.assert_close(fresh(x1, x2), net(x1, x2))
    fresh.to(torch.float64)
    assert fresh.distance.weight.dtype == torch.float64


def test_float32_weight_accepts_float64_inputs_and_still_trains() -> None:
    d = MahalanobisDistance(2)
    a = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    out = d.pairwise(a, b)
    assert out.dtype == torch.float64
    assert out.item() == pytest.approx(5.0)
    out.sum().backward()
    assert d.weight.grad is not None and d.weight.grad.dtype == torch.float32


def test_get_distance_needs_dim_for_learned_only() -> None:
    with pytest.raises(
        ValueError, match="distance 'mahalanobis' is learned and needs the embedding size"
    ):
        get_distance("mahalanobis")
    for name in PARAMETER_FREE:
        assert get_distance(name).name == name
        assert get_distance(name, dim=7).name == name  # dim ignored
        assert get_distance(name).learned is False
        assert is_learned(name) is False
    assert is_learned("mahalanobis") is True
    assert is_learned(MahalanobisDistance(2)) is True
    assert is_learned(get_distance("cosine")) is False
    with pytest.raises(ValueError, match="choose one of"):
        is_learned("mahalanobi")


def test_get_distance_passes_objects_through_and_checks_their_size() -> None:
    d = MahalanobisDistance(3)
    assert get_distance(d) is d
    assert get_distance(d, dim=3) is d
    with pytest.raises(ValueError, match="built for 3-D embeddings but dim=4"):
        get_distance(d, dim=4)


def test_unknown_name_lists_mahalanobis() -> None:
    with pytest.raises(ValueError, match=r"choose one of: .*mahalanobis"):
        get_distance("mahalanobi", dim=3)


@pytest.mark.parametrize(
    ("dim", "rank", "match"),
    [(0, None, "positive int"), (3, 0, r"rank must be an int in 1\.\.3"), (3, 4, "1..3")],
)
def test_constructor_errors(dim: int, rank: int | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MahalanobisDistance(dim, rank=rank)


def test_shape_errors() -> None:
    d = MahalanobisDistance(3)
    with pytest.raises(ValueError, match="2-D"):
        d.pairwise(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="embedding sizes differ"):
        d.matrix(torch.ones(2, 3), torch.ones(5, 4))
    with pytest.raises(ValueError, match="equal length"):
        d.pairwise(torch.ones(2, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match="built for 3-D embeddings"):
        d.pairwise(torch.ones(2, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="built for 3-D embeddings"):
        d.matrix(torch.ones(2, 4))
