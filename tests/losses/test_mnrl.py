"""Multiple-negatives ranking over (anchor, response) pairs, against the formula written as
sentence-transformers states it (cross entropy over scaled cosine scores, target = own pair)
and against NT-Xent where no roles are given."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from siamkit.losses import (
    MultipleNegativesRankingLoss,
    MultipleNegativesSymmetricRankingLoss,
    NTXentLoss,
    get_loss,
)
from siamkit.training.step import batch_loss


def _batch(n: int = 5, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` anchors then their ``n`` responses, shuffled: embeddings, pair ids, roles."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2 * n, d, generator=g, dtype=torch.float64), torch.randperm(
        2 * n, generator=g
    )


def _scores(a: torch.Tensor, r: torch.Tensor, tau: float) -> torch.Tensor:
    return F.normalize(a, dim=1) @ F.normalize(r, dim=1).T / tau  # (n, n)


@pytest.mark.parametrize("tau", [0.05, 0.5])
def test_one_direction_is_cross_entropy_over_the_responses(tau: float) -> None:
    n = 5
    emb, perm = _batch(n)
    a, r = emb[:n], emb[n:]  # pair i = (a[i], r[i])
    want = F.cross_entropy(_scores(a, r, tau), torch.arange(n))
    labels = torch.arange(n).repeat(2)[perm]
    roles = torch.tensor([0] * n + [1] * n)[perm]
    got = MultipleNegativesRankingLoss(temperature=tau)(emb[perm], labels, roles=roles)
    torch.testing.assert_close(got, want)


def test_symmetric_adds_the_response_to_anchor_direction() -> None:
    n = 6
    emb, perm = _batch(n, seed=1)
    a, r = emb[:n], emb[n:]
    s = _scores(a, r, 0.1)
    want = (F.cross_entropy(s, torch.arange(n)) + F.cross_entropy(s.T, torch.arange(n))) / 2
    labels, roles = torch.arange(n).repeat(2)[perm], torch.tensor([0] * n + [1] * n)[perm]
    loss = get_loss("multiple_negatives_symmetric_ranking", temperature=0.1)
    assert isinstance(loss, MultipleNegativesSymmetricRankingLoss) and loss.symmetric
    torch.testing.assert_close(loss(emb[perm], labels, roles=roles), want)


def test_without_roles_it_is_nt_xent() -> None:
    emb, _ = _batch(4, seed=2)
    labels = torch.arange(4).repeat(2)
    got = get_loss("multiple_negatives_ranking", temperature=0.2)(emb, labels)
    torch.testing.assert_close(got, NTXentLoss(temperature=0.2)(emb, labels))
    # with roles the anchors are no longer each other's negatives: a different value
    roles = torch.tensor([0] * 4 + [1] * 4)
    ranked = MultipleNegativesRankingLoss(temperature=0.2)(emb, labels, roles=roles)
    assert abs(float(ranked) - float(got)) > 1e-3


def test_duplicate_response_of_another_pair_leaves_the_softmax() -> None:
    # pairs (a0, r0), (a1, r1), (a2, r2) with r2 the same text as r0: for a0, r2 is not a
    # negative (the guard), so the loss equals the one over responses r0 and r1 only
    emb, _ = _batch(3, seed=3)
    emb[5] = emb[3]
    labels, roles = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 0, 0, 1, 1, 1])
    eq = torch.zeros(6, 6, dtype=torch.bool)
    eq[3, 5] = eq[5, 3] = True
    eq |= torch.eye(6, dtype=torch.bool)
    loss = MultipleNegativesRankingLoss(temperature=0.1, reduction="none")
    got = loss(emb, labels, inputs_equal=eq, roles=roles)  # (3,) one term per anchor
    s = _scores(emb[:3], emb[3:], 0.1)
    want0 = -torch.log_softmax(s[0, :2], 0)[0]
    want2 = -torch.log_softmax(s[2, 1:], 0)[1]  # a2 ranks r2 against r1 (r0 = its duplicate)
    torch.testing.assert_close(got[0], want0)
    torch.testing.assert_close(got[2], want2)


def test_batch_loss_passes_roles_only_to_losses_that_take_them() -> None:
    emb, _ = _batch(3, seed=4)
    labels, roles = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 0, 0, 1, 1, 1])
    mnrl = MultipleNegativesRankingLoss()
    torch.testing.assert_close(
        batch_loss(mnrl, emb, labels, None, roles=roles), mnrl(emb, labels, roles=roles)
    )
    nt = NTXentLoss()
    torch.testing.assert_close(batch_loss(nt, emb, labels, None, roles=roles), nt(emb, labels))


def test_bad_roles_raise() -> None:
    emb, labels = torch.randn(4, 3), torch.tensor([0, 1, 0, 1])
    loss = MultipleNegativesRankingLoss()
    with pytest.raises(ValueError, match="0 \\(anchor\\) and 1 \\(response\\)"):
        loss(emb, labels, roles=torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="roles must be"):
        loss(emb, labels, roles=torch.tensor([0, 1]))
