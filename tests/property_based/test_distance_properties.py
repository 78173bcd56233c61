"""Properties of every distance on random embeddings, each against a plain Python loop.

Paired ``(B,)`` and matrix ``(N, M)`` values equal the loop's; the matrix is symmetric, non-
negative and zero on the diagonal; the chunked matrix equals the unchunked one; ``closeness``
follows ``larger_is_closer``; and the numpy runtime's ``pair_distances`` agrees with torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from siamkit.distances import DISTANCES, Distance, MahalanobisDistance, get_distance, is_learned
from siamkit.losses import MultiSimilarityLoss
from siamkit.runtime.distances import RUNTIME_DISTANCES, pair_distances

FIXED = [n for n in DISTANCES.names() if not is_learned(n)]
# the distances' floors, as the reference loop writes them
SQRT_FLOOR = 1e-12
COSINE_EPS = 1e-8

Row = Sequence[float]

values = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False, width=64)


@st.composite
def two_sets(draw: st.DrawFn, same_rows: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(N, D)`` and ``(M, D)`` float64 arrays, small; ``same_rows``: N == M (paired)."""
    d = draw(st.integers(1, 5))
    n = draw(st.integers(1, 6))
    m = n if same_rows else draw(st.integers(1, 6))
    a = draw(arrays(np.float64, (n, d), elements=values))
    b = draw(arrays(np.float64, (m, d), elements=values))
    return a, b


def _euclidean(x: Row, y: Row) -> float:
    return math.sqrt(max(sum((u - v) ** 2 for u, v in zip(x, y)), SQRT_FLOOR))


def _squared(x: Row, y: Row) -> float:
    return sum((u - v) ** 2 for u, v in zip(x, y))


def _manhattan(x: Row, y: Row) -> float:
    return sum(abs(u - v) for u, v in zip(x, y))


def _cosine(x: Row, y: Row) -> float:
    nx = max(math.sqrt(sum(u * u for u in x)), COSINE_EPS)
    ny = max(math.sqrt(sum(v * v for v in y)), COSINE_EPS)
    return 1.0 - sum(u * v for u, v in zip(x, y)) / (nx * ny)


REFERENCE: dict[str, Callable[[Row, Row], float]] = {
    "euclidean": _euclidean,
    "squared_euclidean": _squared,
    "manhattan": _manhattan,
    "cosine": _cosine,
}


def _mahalanobis_reference(weight: np.ndarray) -> Callable[[Row, Row], float]:
    def dist(x: Row, y: Row) -> float:
        diff = [u - v for u, v in zip(x, y)]
        proj = [sum(w * e for w, e in zip(row, diff)) for row in weight.tolist()]
        return math.sqrt(max(sum(p * p for p in proj), SQRT_FLOOR))

    return dist


@st.composite
def distance_and_reference(
    draw: st.DrawFn, dim: int
) -> tuple[Distance, Callable[[Row, Row], float]]:
    """A registered distance for ``dim``-D embeddings and its loop; a random learned ``L``."""
    name = draw(st.sampled_from([*FIXED, "mahalanobis"]))
    if name != "mahalanobis":
        return get_distance(name), REFERENCE[name]
    rank = draw(st.integers(1, dim))
    weight = draw(arrays(np.float64, (rank, dim), elements=st.floats(-2.0, 2.0, width=64)))
    d = MahalanobisDistance(dim, rank).double()
    with torch.no_grad():
        d.weight.copy_(torch.from_numpy(weight))
    return d, _mahalanobis_reference(weight)


def _loop_matrix(ref: Callable[[Row, Row], float], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([[ref(x, y) for y in b.tolist()] for x in a.tolist()]).reshape(len(a), len(b))


def _close(got: torch.Tensor, want: np.ndarray) -> None:
    # the values reach ~2000 (squared, D = 5); the floors are 1e-6 (sqrt) and 1e-8 (cosine)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-9, atol=1e-6)


@settings(max_examples=40)
@given(data=st.data(), ab=two_sets(same_rows=True))
def test_pairwise_equals_the_loop(data: st.DataObject, ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    dist, ref = data.draw(distance_and_reference(a.shape[1]))
    got = dist.pairwise(torch.from_numpy(a), torch.from_numpy(b))
    assert got.shape == (len(a),)
    _close(got, np.array([ref(x, y) for x, y in zip(a.tolist(), b.tolist())]))


@settings(max_examples=40)
@given(data=st.data(), ab=two_sets())
def test_matrix_equals_the_loop(data: st.DataObject, ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    dist, ref = data.draw(distance_and_reference(a.shape[1]))
    got = dist.matrix(torch.from_numpy(a), torch.from_numpy(b))
    assert got.shape == (len(a), len(b))
    _close(got, _loop_matrix(ref, a, b))


@given(data=st.data(), ab=two_sets(), chunk=st.integers(1, 7))
def test_chunked_matrix_equals_unchunked(
    data: st.DataObject, ab: tuple[np.ndarray, np.ndarray], chunk: int
) -> None:
    a, b = ab
    dist, _ = data.draw(distance_and_reference(a.shape[1]))
    x, y = torch.from_numpy(a), torch.from_numpy(b)
    whole = dist.matrix(x, y, chunk_size=len(a))
    torch.testing.assert_close(dist.matrix(x, y, chunk_size=chunk), whole, rtol=1e-12, atol=1e-12)


@given(data=st.data(), ab=two_sets())
def test_matrix_is_symmetric_nonnegative_and_zero_on_identical_rows(
    data: st.DataObject, ab: tuple[np.ndarray, np.ndarray]
) -> None:
    a, _ = ab
    dist, _ = data.draw(distance_and_reference(a.shape[1]))
    x = torch.from_numpy(a)
    m = dist.matrix(x).detach()  # (N, N)
    torch.testing.assert_close(m, m.T, rtol=1e-9, atol=1e-9)
    assert bool((m >= 0).all())
    same = dist.pairwise(x, x.clone()).detach()  # identical rows, paired
    assert bool((same >= 0).all())
    # Zero up to the floor sqrt(1e-12) of the Euclidean family. The cosine of a (near-)zero
    # row is undefined: siamkit, like the runtime, calls it 0, so such a row is at distance 1
    # from itself; those rows are left out.
    defined = torch.ones(len(a), dtype=torch.bool)
    if dist.name == "cosine":
        defined = torch.from_numpy(np.linalg.norm(a, axis=1) > 1e-6)
    assert np.abs(m.diagonal()[defined].numpy()).max(initial=0.0) <= 1e-6
    assert same[defined].numpy().max(initial=0.0) <= 1e-6


@given(ab=two_sets(same_rows=True), name=st.sampled_from(FIXED))
def test_identical_row_is_the_closest_by_closeness(
    ab: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    """``closeness`` turns values so that larger is closer: the row itself scores highest."""
    a, b = ab
    dist = get_distance(name)
    assert dist.larger_is_closer is False
    x, y = torch.from_numpy(a), torch.from_numpy(b)
    self_score = dist.closeness(dist.pairwise(x, x.clone()))
    other_score = dist.closeness(dist.pairwise(x, y))
    assert bool((self_score >= other_score - 1e-9).all())


@given(ab=two_sets(same_rows=True))
def test_a_similarity_flags_larger_is_closer_and_keeps_its_sign(
    ab: tuple[np.ndarray, np.ndarray],
) -> None:
    """The one similarity in the package (multi-similarity's cosine ``S``): larger is closer,
    ``closeness`` is the value itself, and a row is at least as close to itself as to another."""
    a, b = ab
    sim = MultiSimilarityLoss().distance
    assert sim.larger_is_closer is True
    x, y = torch.from_numpy(a), torch.from_numpy(b)
    values = sim.pairwise(x, y)
    torch.testing.assert_close(sim.closeness(values), values)
    nonzero = torch.from_numpy(np.linalg.norm(a, axis=1) > COSINE_EPS)
    self_score = sim.closeness(sim.pairwise(x, x.clone()))
    assert bool((self_score[nonzero] >= values[nonzero] - 1e-9).all())


@settings(max_examples=40)
@given(ab=two_sets(same_rows=True), name=st.sampled_from(RUNTIME_DISTANCES))
def test_runtime_pair_distances_agree_with_torch(
    ab: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    a, b = ab
    got = pair_distances(a, b, name)
    assert got.shape == (len(a),) and got.dtype == np.float32
    want = get_distance(name).pairwise(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    # float32 output; torch's Euclidean floor adds at most 1e-6 at D = 0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)
