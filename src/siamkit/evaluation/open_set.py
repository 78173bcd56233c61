"""Open-set identification: search probes against an enrolled gallery, some of them unknown.

Terms follow ISO/IEC 19795-1 and NIST FRVT 1:N reports. A probe is *mated* when its identity
is enrolled in the gallery and *non-mated* otherwise. Each probe is answered with its top-1
gallery item (the closest one) and that item's distance; the answer counts only if the
distance passes a threshold, else the probe is declared "unknown".

* DIR (detection and identification rate): share of mated probes whose top-1 is the right
  identity *and* passes the threshold (FNIR = 1 - DIR).
* FPIR (false positive identification rate): share of non-mated probes whose top-1 passes the
  threshold; ``1 - FPIR`` is the share rightly answered "unknown".
* DIR@FPIR: DIR at the threshold set on the non-mated probes for a target FPIR.

Example:
    >>> from sklearn.datasets import load_digits
    >>> x, y = load_digits(return_X_y=True)  # 64-d pixel vectors as embeddings
    >>> emb, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    >>> split = gallery_probe_split(labels, unknown_fraction=0.3)
    >>> m = open_set_identification(emb[split.gallery], labels[split.gallery],
    ...                             emb[split.probe], labels[split.probe], "cosine")
    >>> [(p.target_fpir, round(p.dir, 3)) for p in m.at_fpir]
    [(0.01, 0.202), (0.1, 0.429)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from siamkit.distances import Distance, get_distance


class OperatingPoint(NamedTuple):
    """Open-set figures at one threshold.

    Attributes:
        threshold: In the distance's units: a top-1 match passes if its distance is
            ``<= threshold`` (``>= threshold`` for a similarity). May be infinite.
        dir: Detection and identification rate over the mated probes.
        fpir: False positive identification rate over the non-mated probes.
        unknown_correct_rate: Share of non-mated probes answered "unknown" (``1 - fpir``).
        target_fpir: The FPIR the threshold was chosen for; None for a threshold given by
            the caller.
    """

    threshold: float
    dir: float
    fpir: float
    unknown_correct_rate: float
    target_fpir: float | None


class OpenSetMetrics(NamedTuple):
    """Result of :func:`open_set_identification`.

    Attributes:
        rank1: Closed-set rank-1 identification rate of the mated probes (DIR with no
            threshold): an upper bound of every DIR below.
        at_fpir: One :class:`OperatingPoint` per FPIR target, in the order given.
        at_threshold: The :class:`OperatingPoint` at the caller's threshold, or None.
        num_mated: Probes whose identity is in the gallery.
        num_non_mated: Probes whose identity is not.
    """

    rank1: float
    at_fpir: tuple[OperatingPoint, ...]
    at_threshold: OperatingPoint | None
    num_mated: int
    num_non_mated: int


class GalleryProbeSplit(NamedTuple):
    """Item indices of an open-set split, each sorted.

    Attributes:
        gallery: ``(G,)`` enrolled items: ``gallery_per_class`` of each known identity.
        probe: ``(P,)`` search items: the rest of the known identities (mated) and every item
            of the held-out identities (non-mated).
    """

    gallery: Tensor
    probe: Tensor


def open_set_identification(
    gallery_emb: Tensor,
    gallery_y: Tensor,
    probe_emb: Tensor,
    probe_y: Tensor,
    distance: str | Distance = "euclidean",
    threshold: float | None = None,
    fpir_targets: Sequence[float] = (0.01, 0.1),
    chunk_size: int = 1024,
) -> OpenSetMetrics:
    """DIR at target FPIRs, and DIR/FPIR at a calibrated threshold, by brute-force top-1 search.

    For each FPIR target the threshold is the most lenient one whose FPIR on these non-mated
    probes is ``<= target``: with ``Nn`` non-mated probes and ``m = floor(target * Nn)``, a
    match must be strictly closer than the ``(m+1)``-th closest non-mated top-1 score, so the
    reported threshold is the float just below that distance (just above, for a similarity);
    it is ``inf`` (``-inf`` for a similarity) when ``m >= Nn``. Ties among non-mated scores
    can make the achieved FPIR lower than the target. Such thresholds are tuned on the probes
    themselves; for an unbiased figure pass a ``threshold`` calibrated on other data.

    Args:
        gallery_emb: ``(G, D)`` enrolled embeddings.
        gallery_y: ``(G,)`` their identities (several items per identity are allowed).
        probe_emb: ``(P, D)`` search embeddings.
        probe_y: ``(P,)`` their identities; those absent from ``gallery_y`` are non-mated.
        distance: A :class:`~siamkit.distances.Distance` or its registered name.
        threshold: A calibrated threshold in the distance's units, or None.
        fpir_targets: FPIR values in ``[0, 1]`` to report DIR at.
        chunk_size: Probes searched at a time (memory ``O(chunk_size * G)``).

    Returns:
        An :class:`OpenSetMetrics`.

    Raises:
        ValueError: On bad shapes or arguments, or when the probes are not a mix of mated and
            non-mated ones.

    Example:
        >>> g_emb, g_y = torch.tensor([[0.0], [5.0]]), torch.tensor([0, 1])
        >>> p_emb, p_y = torch.tensor([[0.5], [4.0], [10.0]]), torch.tensor([0, 1, 2])  # 2: unknown
        >>> m = open_set_identification(g_emb, g_y, p_emb, p_y, "euclidean", threshold=0.8)
        >>> m.at_threshold.dir, m.at_threshold.fpir  # probe 1 is 1.0 from its match: too far
        (0.5, 0.0)
    """
    dist = get_distance(distance)
    gallery_y, probe_y = _check_inputs(gallery_emb, gallery_y, probe_emb, probe_y)
    targets = tuple(float(t) for t in fpir_targets)
    bad = [t for t in targets if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"fpir_targets must lie in [0, 1]; got {bad}")
    if threshold is not None and math.isnan(threshold):
        raise ValueError("threshold is NaN; pass a number or None")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    top_idx, top_val = _top1(gallery_emb, probe_emb, dist, chunk_size)  # (P,), (P,)
    if not torch.isfinite(top_val).all():
        raise ValueError("top-1 distances contain NaN or infinity; check the embeddings")
    mated = torch.isin(probe_y, gallery_y)  # (P,)
    correct = gallery_y[top_idx] == probe_y  # (P,), never true for non-mated probes
    n_mated, n_non = int(mated.sum()), int((~mated).sum())
    if n_mated == 0 or n_non == 0:
        raise ValueError(
            f"open-set identification needs both mated and non-mated probes; got {n_mated} "
            f"mated and {n_non} non-mated. Hold identities out of the gallery with "
            "gallery_probe_split(labels, unknown_fraction=0.3)."
        )

    def point(thr: float, target: float | None) -> OperatingPoint:
        passed = _passes(top_val, thr, dist.larger_is_closer)  # (P,)
        fpir = float(passed[~mated].double().mean())
        return OperatingPoint(
            threshold=thr,
            dir=float((correct & passed)[mated].double().mean()),
            fpir=fpir,
            unknown_correct_rate=1.0 - fpir,
            target_fpir=target,
        )

    non_closeness = dist.closeness(top_val[~mated])  # (Nn,), larger = closer
    return OpenSetMetrics(
        rank1=float(correct[mated].double().mean()),
        at_fpir=tuple(
            point(_threshold_at_fpir(non_closeness, t, dist.larger_is_closer), t) for t in targets
        ),
        at_threshold=None if threshold is None else point(float(threshold), None),
        num_mated=n_mated,
        num_non_mated=n_non,
    )


def gallery_probe_split(
    labels: Tensor,
    unknown_fraction: float = 0.3,
    gallery_per_class: int = 1,
    seed: int = 0,
) -> GalleryProbeSplit:
    """Split items into an open-set gallery and probe set.

    A random ``round(unknown_fraction * C)`` of the ``C`` identities (at least one when
    ``unknown_fraction > 0``, at most ``C - 1``) is held out of the gallery entirely: all their
    items become non-mated probes. Every other identity enrols ``gallery_per_class`` random
    items (all of them if it has fewer) and the rest become mated probes.

    Args:
        labels: ``(N,)`` integer identities.
        unknown_fraction: Share of identities kept out of the gallery, in ``[0, 1)``.
        gallery_per_class: Items enrolled per known identity (>= 1).
        seed: Same seed, same split.

    Returns:
        A :class:`GalleryProbeSplit` of sorted item indices.

    Example:
        >>> s = gallery_probe_split(torch.tensor([0, 0, 1, 1, 2, 2]), 1 / 3, seed=0)
        >>> len(s.gallery), len(s.probe)
        (2, 4)
    """
    labels = torch.as_tensor(labels).cpu()
    if labels.dim() != 1:
        raise ValueError(f"labels must be 1-D (N,); got shape {tuple(labels.shape)}")
    if not 0.0 <= unknown_fraction < 1.0:
        raise ValueError(f"unknown_fraction must lie in [0, 1), got {unknown_fraction}")
    if gallery_per_class < 1:
        raise ValueError(f"gallery_per_class must be >= 1, got {gallery_per_class}")
    classes = torch.unique(labels)
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(
            f"an open-set split needs at least 2 identities (one known, one unknown); "
            f"got {n_classes}"
        )
    n_unknown = round(unknown_fraction * n_classes)
    if unknown_fraction > 0:
        n_unknown = min(max(n_unknown, 1), n_classes - 1)
    g = torch.Generator().manual_seed(seed)
    order = classes[torch.randperm(n_classes, generator=g)]
    gallery: list[Tensor] = []
    probe: list[Tensor] = []
    for i, c in enumerate(order.tolist()):
        members = (labels == c).nonzero().flatten()
        if i < n_unknown:
            probe.append(members)
            continue
        members = members[torch.randperm(len(members), generator=g)]
        gallery.append(members[:gallery_per_class])
        probe.append(members[gallery_per_class:])
    return GalleryProbeSplit(
        gallery=torch.cat(gallery).sort().values,
        probe=torch.cat(probe).sort().values,
    )


def _top1(
    gallery: Tensor, probes: Tensor, dist: Distance, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Index ``(P,)`` of each probe's closest gallery item and its distance ``(P,)``, on CPU."""
    idx, val = [], []
    for s in range(0, len(probes), chunk_size):
        block = dist.matrix(probes[s : s + chunk_size], gallery)  # (c, G)
        best = dist.closeness(block).argmax(dim=1, keepdim=True)  # (c, 1)
        idx.append(best.squeeze(1).cpu())
        val.append(block.gather(1, best).squeeze(1).cpu())
    values = torch.cat(val)
    if values.dtype not in (torch.float32, torch.float64):  # half precision: nextafter needs
        values = values.float()
    return torch.cat(idx), values


def _passes(values: Tensor, threshold: float, larger_is_closer: bool) -> Tensor:
    """Whether each top-1 value passes ``threshold`` (compared in float64: no rounding)."""
    v = values.double()
    return v >= threshold if larger_is_closer else v <= threshold


def _threshold_at_fpir(non_closeness: Tensor, target: float, larger_is_closer: bool) -> float:
    """Most lenient threshold (distance units) with FPIR <= ``target`` on these scores."""
    n = len(non_closeness)
    allowed = math.floor(target * n + 1e-9)  # non-mated probes that may pass
    if allowed >= n:
        return -math.inf if larger_is_closer else math.inf
    ranked = non_closeness.sort(descending=True).values  # closest first
    # Pass only what is strictly closer than the first non-mated score that must fail.
    bar = ranked[allowed : allowed + 1]
    above = torch.nextafter(bar, torch.full_like(bar, math.inf))  # in closeness units
    return float(above) if larger_is_closer else -float(above)


def _check_inputs(
    gallery_emb: Tensor, gallery_y: Tensor, probe_emb: Tensor, probe_y: Tensor
) -> tuple[Tensor, Tensor]:
    gallery_y = torch.as_tensor(gallery_y).cpu()
    probe_y = torch.as_tensor(probe_y).cpu()
    if gallery_emb.dim() != 2 or probe_emb.dim() != 2:
        raise ValueError(
            f"embeddings must be 2-D (N, D); got gallery {tuple(gallery_emb.shape)} and probe "
            f"{tuple(probe_emb.shape)}"
        )
    if len(gallery_emb) == 0 or len(probe_emb) == 0:
        raise ValueError(
            f"open-set identification needs a non-empty gallery and probe set; got "
            f"{len(gallery_emb)} gallery and {len(probe_emb)} probe items"
        )
    for name, y, emb in (("gallery_y", gallery_y, gallery_emb), ("probe_y", probe_y, probe_emb)):
        if y.dim() != 1 or len(y) != len(emb):
            raise ValueError(
                f"{name} must be 1-D with one label per embedding ({len(emb)}); got shape "
                f"{tuple(y.shape)}"
            )
    return gallery_y, probe_y
