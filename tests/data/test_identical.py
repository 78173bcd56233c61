"""identical_inputs against a plain double loop."""

from __future__ import annotations

import torch

from siamkit.data.identical import identical_inputs


def _loop(x: torch.Tensor) -> torch.Tensor:
    b = len(x)
    out = torch.zeros(b, b, dtype=torch.bool)
    for i in range(b):
        for j in range(b):
            out[i, j] = i != j and torch.equal(x[i], x[j])
    return out


def test_matches_a_plain_loop_with_duplicates_and_near_duplicates() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 6, 6, generator=g)
    x[7] = x[3]
    x[30] = x[3]
    x[12] = x[20]
    x[5] = x[9].flip(-1)  # same values, other order: same plain sum, different weighted sum
    x[6] = x[8].clone()
    x[6, 0, 0, 0] += 1e-6  # one value apart: not identical
    got = identical_inputs(x)
    assert torch.equal(got, _loop(x))
    assert got[3, 7] and got[7, 30] and got[12, 20] and not got[6, 8] and not got[5, 9]


def test_no_duplicates_and_tiny_batches() -> None:
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    assert not identical_inputs(x).any()
    assert identical_inputs(x[:1]).shape == (1, 1)
