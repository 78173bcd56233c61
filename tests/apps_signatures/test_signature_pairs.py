"""Genuine / skilled / random pairs against a plain loop; FAR, FRR and EER against references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from siamkit.apps.signatures.evaluate import forgery_rates, signature_pairs


def test_pairs_match_a_plain_loop() -> None:
    gw = torch.tensor([3, 3, 3, 5, 5, 7, 7, 7, 7])
    fw = torch.tensor([3, 5, 5, 7, 9])  # writer 9 has no genuine signature here
    p = signature_pairs(gw, fw, random_per_genuine=4, seed=0)
    n = len(gw)
    genuine = {(i, j) for i in range(n) for j in range(i + 1, n) if gw[i] == gw[j]}
    skilled = {(i, k) for i in range(n) for k in range(len(fw)) if gw[i] == fw[k]}
    assert {tuple(r) for r in p.genuine.tolist()} == genuine
    assert len(p.genuine) == len(genuine)
    assert {tuple(r) for r in p.skilled.tolist()} == skilled
    assert len(p.skilled) == len(skilled)
    for i in range(n):
        mine = [j for a, j in p.random.tolist() if a == i]
        others = sum(int(gw[j] != gw[i]) for j in range(n))
        assert len(mine) == min(4, others)
        assert len(set(mine)) == len(mine)
        assert all(gw[j] != gw[i] for j in mine)


def test_random_pairs_are_seeded() -> None:
    gw = torch.arange(20) // 4
    a = signature_pairs(gw, gw[:0], 3, seed=1).random
    assert torch.equal(a, signature_pairs(gw, gw[:0], 3, seed=1).random)
    assert not torch.equal(a, signature_pairs(gw, gw[:0], 3, seed=2).random)


def test_far_frr_at_a_threshold_match_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    dg = rng.normal(0.4, 0.2, 300)
    df = rng.normal(0.9, 0.3, 500)
    thr = 0.62
    r = forgery_rates(dg, df, thr)
    far = sum(1 for d in df if d <= thr) / len(df)
    frr = sum(1 for d in dg if d > thr) / len(dg)
    assert r.far == pytest.approx(far)
    assert r.frr == pytest.approx(frr)
    assert (r.genuine_pairs, r.forgery_pairs) == (300, 500)
    same = np.r_[np.ones(300), np.zeros(500)]
    assert r.roc_auc == pytest.approx(roc_auc_score(same, -np.r_[dg, df]))
    # similarities: accept when >= threshold
    s = forgery_rates(-dg, -df, -thr, larger_is_closer=True)
    assert (s.far, s.frr) == pytest.approx((far, frr))


def test_eer_is_where_far_meets_frr() -> None:
    rng = np.random.default_rng(1)
    dg, df = rng.normal(0.4, 0.2, 2000), rng.normal(0.8, 0.25, 2000)
    eer = forgery_rates(dg, df, 0.5).eer
    # brute force over every threshold: the EER lies within one step of min max(FAR, FRR)
    ts = np.sort(np.r_[dg, df])
    far = np.array([(df <= t).mean() for t in ts])
    frr = np.array([(dg > t).mean() for t in ts])
    best = np.min(np.maximum(far, frr))
    assert best - 1e-3 <= eer <= best + 1e-9
    assert forgery_rates([0.1, 0.2], [0.8, 0.9], 0.5).eer == 0.0


def test_rates_need_both_kinds_of_pairs() -> None:
    with pytest.raises(ValueError, match="genuine and forgery pairs"):
        forgery_rates([0.1], [], 0.5)
