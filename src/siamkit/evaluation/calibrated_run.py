"""A run's calibration record (``RUN/calibration.json``) and calibrating a run directory.

The fitting itself (threshold for a target FAR or the best accuracy / F1, and the distance ->
P(same) map) lives in :mod:`siamkit.evaluation.calibration`; this module chooses the pairs
(a calibration part and a disjoint test part of the chosen classes), records what was done and
stores it beside the checkpoint without pickle.

Example:
    >>> cal = calibrate_run("runs/digits", target_far=0.01)  # also writes calibration.json
    >>> cal.source.calibration_classes, cal.source.test_classes
    (['1', '2', '3'], ['0', '4'])
    >>> cal.calibration_rates.far <= 0.01
    True
    >>> print(f"{cal.test_rates.far:.3f}")  # achieved on the held-out part, beside the target
    0.000
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from siamkit.data.labelled import LabelledData
from siamkit.data.pairs import sample_pairs
from siamkit.data.sources import load_data
from siamkit.data.splits import parse_classes
from siamkit.distances import Distance
from siamkit.evaluation.calibration import (
    FloatArray,
    _check_target,
    error_rates,
    fit_threshold,
)
from siamkit.models.embed import embed_all
from siamkit.run.calibration import (
    Calibration,
    CalibrationSource,
    ProbabilityMap,
    check_method,
)
from siamkit.run.model_card import write_model_card

SPLITS = ("train", "test")


def fit_calibration(
    same: npt.ArrayLike,
    distances: npt.ArrayLike,
    distance: str = "euclidean",
    larger_is_closer: bool = False,
    target_far: float | None = None,
    objective: str = "accuracy",
    method: str = "platt",
    test_same: npt.ArrayLike | None = None,
    test_distances: npt.ArrayLike | None = None,
    source: CalibrationSource | None = None,
) -> Calibration:
    """Fit the threshold and probability map on pairs; rate them there and on test pairs.

    Args:
        same: ``(K,)`` calibration pairs' labels (1 = same).
        distances: ``(K,)`` their distances.
        distance: Name of the distance, recorded.
        larger_is_closer: True for similarities.
        target_far: The false accept rate the threshold is held under, or None for
            ``objective`` (see :func:`fit_threshold`).
        objective: ``accuracy`` or ``f1`` the threshold maximises without ``target_far``.
        method: ``platt`` or ``isotonic`` (see :class:`ProbabilityMap`).
        test_same: ``(T,)`` labels of separate pairs to report rates on, or None.
        test_distances: ``(T,)`` their distances, or None.
        source: Where the pairs came from, recorded.
    """
    check_method(method)
    thr = fit_threshold(same, distances, larger_is_closer, target_far, objective)
    test = None
    if test_same is not None and test_distances is not None:
        test = error_rates(test_same, test_distances, thr, larger_is_closer)
    return Calibration(
        threshold=thr,
        objective=None if target_far is not None else objective,
        target_far=target_far,
        method=method,
        probability_map=ProbabilityMap.fit(same, distances, method, larger_is_closer),
        distance=distance,
        larger_is_closer=larger_is_closer,
        calibration_rates=error_rates(same, distances, thr, larger_is_closer),
        test_rates=test,
        source=source,
    )


def calibrate_run(
    run_dir: str | Path,
    data: str | None = None,
    classes: str | None = None,
    split: str = "train",
    target_far: float | None = None,
    objective: str = "accuracy",
    method: str = "platt",
    num_pairs: int = 20_000,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> Calibration:
    """Calibrate a trained run on classes it may use, test on a disjoint part, save the result.

    The chosen items (default: the run's *training* classes; evaluation classes only when named
    in ``classes``) are split by class into a calibration part and a test part with
    ``test_fraction`` of the classes (2 or more classes in each). With only 2-3 classes each
    class's items are split instead. Balanced pairs are drawn in each part; the threshold and
    probability map are fitted on the calibration pairs and rated on the test pairs.

    Args:
        run_dir: A run directory from ``siamkit train``.
        data: Data source; default the run's.
        classes: Class spec such as ``0-4``; default the run's training classes (required when
            ``data`` differs from the run's).
        split: ``train`` or ``test`` split of sources that have them.
        target_far: The false accept rate the threshold is held under, or None for
            ``objective`` (see :func:`fit_threshold`).
        objective: ``accuracy`` or ``f1`` the threshold maximises without ``target_far``.
        method: ``platt`` or ``isotonic``.
        num_pairs: Balanced pairs drawn in each part.
        test_fraction: Share of the classes (or items) held out for the test part, in [0, 1);
            0 fits on everything and reports no test rates.
        seed: Seeds the split and the pairs.

    Returns:
        The :class:`Calibration`, also written to ``RUN/calibration.json``.

    Raises:
        ValueError: Bad settings, not a run directory, or too few classes; says how to fix it.
    """
    from siamkit.run.checkpoint import load_run
    from siamkit.run.config import source_options

    _check_target(target_far, objective)
    check_method(method)
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    if num_pairs < 2:
        raise ValueError(f"num_pairs must be >= 2 (same and different pairs); got {num_pairs}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), e.g. 0.5; got {test_fraction}")
    run = load_run(run_dir)
    cfg = run.config
    source = data or cfg.data
    if classes is None and source != cfg.data:
        raise ValueError(
            f"--data {source} is not the run's data ({cfg.data}), so its training classes do "
            "not apply; name the classes to calibrate on with --classes"
        )
    full = load_data(source, source_options(cfg), split=split)  # type: ignore[arg-type]
    names = full.class_names
    chosen = parse_classes(classes if classes is not None else cfg.train_classes, names)
    if len(chosen) < 2:
        raise ValueError(
            f"calibration needs at least 2 classes to form different pairs; got "
            f"{[names[c] for c in chosen]}; name more with --classes"
        )
    evals = set(parse_classes(cfg.eval_classes, names)) if source == cfg.data else set()
    subset = full.of_classes(chosen)
    cal_idx, test_idx, split_by = _split(subset, chosen, test_fraction, seed)
    emb = embed_all(run.model, subset.x)  # (N, D)
    dist = run.model.distance
    cal = subset.subset(cal_idx)
    same, d = pair_distances(emb[cal_idx], cal.y, num_pairs, seed, dist)
    test_same = test_d = None
    test_names: list[str] = []
    if len(test_idx):
        test = subset.subset(test_idx)
        test_same, test_d = pair_distances(emb[test_idx], test.y, num_pairs, seed + 1, dist)
        test_names = _class_names(test)
    info = CalibrationSource(
        data=source,
        split=split,
        checkpoint="best",
        split_by=split_by,
        calibration_classes=_class_names(cal),
        test_classes=test_names,
        calibration_items=len(cal_idx),
        test_items=len(test_idx),
        num_pairs=num_pairs,
        seed=seed,
        eval_classes_used=[names[c] for c in chosen if c in evals],
    )
    result = fit_calibration(
        same,
        d,
        distance=run.spec.distance,
        larger_is_closer=dist.larger_is_closer,
        target_far=target_far,
        objective=objective,
        method=method,
        test_same=test_same,
        test_distances=test_d,
        source=info,
    )
    result.save(run_dir)
    write_model_card(run_dir)  # the card shows the threshold and where it came from
    return result


def _split(
    data: LabelledData, classes: list[int], test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Sorted item indices of the calibration and test parts, and how they were split."""
    g = torch.Generator().manual_seed(seed)
    empty = torch.zeros(0, dtype=torch.long)
    if test_fraction == 0.0:
        return torch.arange(len(data)), empty, "none"
    n = len(classes)
    if n >= 4:  # 2+ classes in each part, so each part has different pairs
        perm = torch.randperm(n, generator=g).tolist()
        n_test = min(max(round(n * test_fraction), 2), n - 2)
        test_classes = [classes[i] for i in perm[:n_test]]
        in_test = torch.isin(data.y, torch.tensor(test_classes))
        return (~in_test).nonzero().flatten(), in_test.nonzero().flatten(), "class"
    cal_parts, test_parts = [], []
    for c in classes:  # 1+ items of each class in each part where the class has 2+
        idx = (data.y == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = min(max(round(len(idx) * test_fraction), 1), len(idx) - 1) if len(idx) > 1 else 0
        test_parts.append(idx[:n_test])
        cal_parts.append(idx[n_test:])
    return torch.cat(cal_parts).sort().values, torch.cat(test_parts).sort().values, "item"


@torch.no_grad()
def pair_distances(
    emb: torch.Tensor, labels: torch.Tensor, num_pairs: int, seed: int, distance: Distance
) -> tuple[np.ndarray, FloatArray]:
    """``(K,)`` same labels (1 = same) and distances of balanced pairs drawn from ``labels``."""
    if len(torch.unique(labels)) < 2:
        raise ValueError(
            "a calibration part holds a single class, so no different pairs can be formed; "
            "name more classes with --classes"
        )
    pairs = sample_pairs(labels, num_pairs, 0.5, seed)
    values = distance.pairwise(emb[pairs.first], emb[pairs.second])  # (K,)
    return (1 - pairs.label).numpy(), values.double().numpy()


def _class_names(data: LabelledData) -> list[str]:
    return [data.class_names[c] for c in torch.unique(data.y).tolist()]
