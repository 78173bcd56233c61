"""Uniformity against a plain double loop and hand-worked points."""

from __future__ import annotations

import math

import pytest
import torch

from siamkit.losses.uniformity import UniformityLoss


def _loop(z: torch.Tensor, t: float) -> float:
    total, count = 0.0, 0
    for i in range(len(z)):
        for j in range(len(z)):
            if i != j:
                total += math.exp(-t * float(((z[i] - z[j]) ** 2).sum()))
                count += 1
    return math.log(total / count)


def test_matches_a_plain_loop() -> None:
    z = torch.nn.functional.normalize(torch.randn(9, 5, generator=torch.Generator().manual_seed(0)))
    for t in (0.5, 2.0):
        assert UniformityLoss(t)(z).item() == pytest.approx(_loop(z, t), abs=1e-5)


def test_hand_worked_points() -> None:
    # two antipodal unit vectors: ‖a - b‖² = 4, so U = log(exp(-2·4)) = -8
    z = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    assert UniformityLoss(2.0)(z).item() == pytest.approx(-8.0)
    # identical points: every distance 0, U = log 1 = 0 (its maximum)
    assert UniformityLoss()(torch.ones(4, 3)).item() == pytest.approx(0.0)


def test_spread_beats_collapsed_and_gradient_spreads() -> None:
    spread = torch.eye(4)
    collapsed = torch.nn.functional.normalize(torch.ones(4, 4) + 0.01 * torch.eye(4))
    u = UniformityLoss()
    assert u(spread) < u(collapsed)
    z = collapsed.clone().requires_grad_(True)
    u(z).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="t must be > 0"):
        UniformityLoss(0.0)
    with pytest.raises(ValueError, match=r"\(B, D\)"):
        UniformityLoss()(torch.ones(3))
    one = torch.ones(1, 3, requires_grad=True)
    out = UniformityLoss()(one)
    out.backward()
    assert out.item() == 0.0
