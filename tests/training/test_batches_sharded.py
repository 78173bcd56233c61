"""epoch_batches on several processes, checked by a plain loop over ranks: every rank's share
of a step is disjoint from the others', and the shares together are the single-process batch."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from siamkit.data.labelled import LabelledData
from siamkit.training import TrainConfig
from siamkit.training.batches import epoch_batches

N = 47  # odd on purpose: uneven shares and a short last batch
DATA = LabelledData(
    torch.arange(N, dtype=torch.float32).unsqueeze(1),  # (N, 1): item i holds the value i
    torch.arange(N) % 4,
    ["a", "b", "c", "d"],
    "vector",
    roles=(torch.arange(N) // 4) % 2,  # anchor / response, not aligned with the labels
)
MODES = {
    "balanced": {"sampling": "balanced", "batch_size": 16},
    "random": {"sampling": "random", "batch_size": 10},
    "pairs": {"sampling": "pairs", "loss": "contrastive", "batch_size": 6},
    "triplets": {"sampling": "pairs", "loss": "triplet", "batch_size": 6},
    "self_supervised": {"self_supervised": True, "batch_size": 12, "loss": "nt_xent"},
}


def _units(batch: tuple, parts: int) -> list[tuple[int, ...]]:
    """Items of a batch as tuples: (item,) or (first, second) or (anchor, positive, negative)."""
    x, _, y, _ = batch
    ids = x[:, 0].long().view(parts, -1).T.tolist()  # x holds parts blocks of one length
    if y is not None:
        return [(*u, int(v)) for u, v in zip(ids, y.tolist(), strict=True)]
    return [tuple(u) for u in ids]


@pytest.mark.parametrize(
    ("mode", "world"), [(m, w) for m in sorted(MODES) for w in (2, 3)] + [("balanced", 4)]
)
def test_rank_shares_make_the_single_process_batch(mode: str, world: int) -> None:
    config = TrainConfig(data="digits", seed=3, **MODES[mode])  # type: ignore[arg-type]
    parts = {"pairs": 2, "triplets": 3}.get(mode, 1)
    for epoch in range(2):
        single = epoch_batches(config, DATA, epoch)
        shares = [epoch_batches(config, DATA, epoch, r, world) for r in range(world)]
        steps = [b for b in single if len(_units(b, parts)) >= world]  # short ones left out
        assert all(len(s) == len(steps) for s in shares)
        for b, batch in enumerate(steps):
            mine = [_units(shares[r][b], parts) for r in range(world)]
            assert all(mine), "no rank gets an empty share"
            together = [u for m in mine for u in m]
            assert Counter(together) == Counter(_units(batch, parts))
            if mode != "balanced":  # contiguous runs: in rank order, the batch itself
                assert together == _units(batch, parts)
            if batch[1] is not None:  # labels and roles travel with their items
                for r in range(world):
                    x, labels, _, roles = shares[r][b]
                    assert torch.equal(labels, DATA.y[x[:, 0].long()])
                    assert DATA.roles is not None and roles is not None
                    assert torch.equal(roles, DATA.roles[x[:, 0].long()])
            else:  # explicit pairs / triplets / self-supervised: roles are not used
                assert batch[3] is None


def test_balanced_share_is_class_balanced() -> None:
    config = TrainConfig(data="digits", sampling="balanced", batch_size=16, seed=0)
    for r in range(2):
        for x, labels, _, _ in epoch_batches(config, DATA, 0, r, 2):
            assert len(x) == 8
            assert sorted(Counter(labels.tolist()).values()) == [2, 2, 2, 2]  # P=4 × K/2=2


def test_balanced_needs_an_item_per_class_per_process() -> None:
    config = TrainConfig(data="digits", sampling="balanced", batch_size=16, seed=0)  # K=4
    with pytest.raises(ValueError, match="fewer than 5 processes"):
        epoch_batches(config, DATA, 0, 0, 5)
