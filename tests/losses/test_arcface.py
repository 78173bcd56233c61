"""ArcFaceLoss against hand-worked values, a plain Python loop and pytorch-metric-learning.

Formula under test: logits s·cos(θ_y + m) for the true class (s·(cos θ_y - m·sin m) once
θ_y > π - m), s·cos θ_j otherwise; cross entropy; W rows and embeddings L2-normalised.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from siamkit.losses import get_loss
from siamkit.losses.arcface import ArcFaceLoss, arcface


def _loop_terms(
    emb: list[list[float]], labels: list[int], w: list[list[float]], m: float, s: float
) -> list[float]:
    terms = []
    for x, y in zip(emb, labels):
        logits = []
        for j, c in enumerate(w):
            cos = sum(a * b for a, b in zip(x, c)) / math.sqrt(
                sum(a * a for a in x) * sum(b * b for b in c)
            )
            if j == y:
                theta = math.acos(max(-1.0, min(1.0, cos)))
                cos = math.cos(theta + m) if theta <= math.pi - m else cos - m * math.sin(m)
            logits.append(s * cos)
        top = max(logits)
        lse = top + math.log(sum(math.exp(z - top) for z in logits))
        terms.append(lse - logits[y])
    return terms


def _loss(
    num_classes: int, dim: int, margin: float = 0.5, scale: float = 64.0, reduction: str = "mean"
) -> ArcFaceLoss:
    """A float64 loss with seeded centres."""
    torch.manual_seed(0)
    return ArcFaceLoss(num_classes, dim, margin=margin, scale=scale, reduction=reduction).double()


def test_hand_worked_2d() -> None:
    # Centres (1,0) and (0,5) (normalised: (0,1)); x = 2·(cos 0.3, sin 0.3) of class 0:
    # θ_0 = 0.3, cos θ_1 = sin 0.3 -> logits [s·cos(0.3 + m), s·sin 0.3].
    loss = _loss(2, 2, margin=0.5, scale=3.0)
    with torch.no_grad():
        loss.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 5.0]]))
    x = torch.tensor([[2 * math.cos(0.3), 2 * math.sin(0.3)]], dtype=torch.float64)
    got = loss(x, torch.tensor([0]))
    t, o = 3.0 * math.cos(0.8), 3.0 * math.sin(0.3)
    assert got.item() == pytest.approx(math.log(math.exp(t) + math.exp(o)) - t, rel=1e-12)


def test_beyond_pi_minus_m_uses_the_fallback() -> None:
    # x nearly opposite its centre: θ ≈ π - 0.1 > π - m, so the target logit is s·(cos θ - m sin m).
    loss = _loss(2, 2, margin=0.5, scale=2.0)
    with torch.no_grad():
        loss.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    theta = math.pi - 0.1
    x = torch.tensor([[math.cos(theta), math.sin(theta)]], dtype=torch.float64)
    got = loss(x, torch.tensor([0]))
    target = 2.0 * (math.cos(theta) - 0.5 * math.sin(0.5))
    other = 2.0 * math.sin(theta)
    want = math.log(math.exp(target) + math.exp(other)) - target
    assert got.item() == pytest.approx(want, rel=1e-12)


def test_loss_never_decreases_as_the_angle_grows() -> None:
    # Centres (1,0,0) and (0,0,1); x = (cos θ, sin θ, 0) keeps cos θ_1 = 0, so
    # CE = log(e^t + 1) - t falls as the target logit t rises: t non-increasing in θ over [0, π]
    # (the documented fallback) is CE non-decreasing.
    loss = _loss(2, 3, margin=0.5, scale=4.0, reduction="none")
    with torch.no_grad():
        loss.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    thetas = torch.linspace(0.0, math.pi, 400, dtype=torch.float64)
    x = torch.stack([torch.cos(thetas), torch.sin(thetas), torch.zeros_like(thetas)], dim=1)
    ce = loss(x, torch.zeros(400, dtype=torch.long)).detach()
    assert bool((ce[1:] >= ce[:-1]).all())
    # and the margin only ever lowers the target logit: CE above the margin-free one
    plain = _loss(2, 3, margin=0.0, scale=4.0, reduction="none")
    plain.load_state_dict(loss.state_dict())
    assert bool((ce > plain(x, torch.zeros(400, dtype=torch.long)).detach()).all())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("margin", "scale"), [(0.5, 64.0), (0.3, 4.0), (0.0, 10.0)])
def test_forward_equals_loop(reduction: str, margin: float, scale: float) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(10, 3))
    labels = [0, 1, 2, 3, 0, 1, 2, 3, 3, 1]
    loss = _loss(4, 3, margin=margin, scale=scale, reduction=reduction)
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    terms = _loop_terms(emb.tolist(), labels, loss.weight.tolist(), margin, scale)
    want = {"mean": sum(terms) / len(terms), "sum": sum(terms), "none": terms}[reduction]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-10)


def test_fallback_branch_equals_loop_when_samples_face_away() -> None:
    rng = np.random.default_rng(1)
    loss = _loss(3, 4, margin=0.5, scale=8.0)
    labels = [0, 1, 2, 0, 1, 2]
    w = loss.weight.detach().numpy()
    emb = -w[labels] + 0.05 * rng.normal(size=(6, 4))  # θ_y close to π
    terms = _loop_terms(emb.tolist(), labels, w.tolist(), 0.5, 8.0)
    got = loss(torch.from_numpy(emb), torch.tensor(labels))
    assert got.item() == pytest.approx(sum(terms) / len(terms), rel=1e-10)


def test_matches_pytorch_metric_learning() -> None:
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    rng = np.random.default_rng(2)
    emb = torch.from_numpy(rng.normal(size=(12, 5)))
    labels = torch.tensor([0, 1, 2, 3, 4, 5] * 2)
    ours = _loss(6, 5, margin=0.5, scale=64.0)
    ref = pml.ArcFaceLoss(num_classes=6, embedding_size=5, margin=math.degrees(0.5), scale=64)
    with torch.no_grad():
        ref.W.data = ours.weight.detach().T.clone()  # PML keeps W as (D, C)
    assert ours(emb, labels).item() == pytest.approx(ref(emb, labels).item(), rel=1e-9)


def test_gradcheck_embeddings_and_weight() -> None:
    rng = np.random.default_rng(3)
    loss = _loss(3, 3, margin=0.5, scale=4.0)
    emb = torch.from_numpy(rng.normal(size=(5, 3))).requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 0, 1])
    w = loss.weight.detach().clone().requires_grad_(True)

    def f(e: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(loss, {"weight": weight}, (e, labels))

    assert torch.autograd.gradcheck(f, (emb, w))


def test_weight_gets_gradients() -> None:
    loss = ArcFaceLoss(4, 3)
    loss(torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])).backward()
    assert loss.weight.grad is not None and bool(loss.weight.grad.abs().sum() > 0)


@pytest.mark.parametrize("labels", [[0, 4], [-1, 0], [0, 1, 2, 7]])
def test_labels_out_of_range_raise(labels: list[int]) -> None:
    loss = ArcFaceLoss(4, 3)
    with pytest.raises(ValueError, match=r"\[0, 4\)") as err:
        loss(torch.randn(len(labels), 3), torch.tensor(labels))
    assert "num_classes" in str(err.value)


def test_bad_label_dtype_and_shapes_raise() -> None:
    loss = ArcFaceLoss(4, 3)
    with pytest.raises(ValueError, match="integer class indices"):
        loss(torch.randn(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels \(B,\)"):
        loss(torch.randn(3, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        loss(torch.randn(2, 5), torch.tensor([0, 1]))


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="radians") as err:
        ArcFaceLoss(4, 3, margin=28.6)
    assert "0.4992" in str(err.value)  # 28.6° in radians
    with pytest.raises(ValueError, match="scale must be > 0"):
        ArcFaceLoss(4, 3, scale=0.0)
    with pytest.raises(ValueError, match="num_classes >= 2"):
        ArcFaceLoss(1, 3)
    with pytest.raises(ValueError, match="choose one of"):
        ArcFaceLoss(4, 3, reduction="max")


def test_factory_needs_num_classes_and_embedding_dim() -> None:
    with pytest.raises(ValueError, match="num_classes and embedding_dim"):
        get_loss("arcface", margin=0.5)
    with pytest.raises(ValueError, match="embedding_dim=None"):
        arcface(num_classes=10)
    with pytest.raises(ValueError, match="takes no distance"):
        arcface(distance="euclidean", num_classes=10, embedding_dim=4)
    built = arcface(margin=0.3, distance="cosine", num_classes=10, embedding_dim=4)
    assert isinstance(built, ArcFaceLoss)
    assert (built.num_classes, built.embedding_dim, built.margin) == (10, 4, 0.3)
