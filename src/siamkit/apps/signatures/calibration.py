"""Calibrating a signature run's threshold against forgeries, on validation writers.

``siamkit calibrate`` fits a run's threshold on pairs of its classes, which for ``cedar:DIR``
are genuine signatures: its different pairs are *random* forgeries only. A signature verifier
usually has to stop *skilled* forgeries, so this fits the threshold (and the distance ->
P(same) map) on genuine pairs against skilled forgeries (or random ones, or both) of the
run's validation writers, and writes it to ``RUN/calibration.json``, where ``siamkit verify``,
the gallery and ``siamkit signatures evaluate`` find it.

The writers are split into a calibration part and a test part (by writer, 2+ in each) so the
rates reported beside the threshold are not the ones it was picked on.

Example (a tiny synthetic set; runs/digits is a digits model, which reads the signatures at
its own 8x8 input size: a run trained on ``cedar:sigs`` does far better):
    >>> from siamkit.apps.signatures.dataset import render_signature_set
    >>> info = render_signature_set(
    ...     "sigs", writers=10, val_writers=4, eval_writers=3, genuine=4, forgeries=2
    ... )
    >>> cal = calibrate_signatures("runs/digits", "sigs", writers="4-7", against="skilled")
    >>> cal.source.calibration_classes, cal.source.test_classes  # split by writer
    (['6', '7'], ['4', '5'])
    >>> round(cal.threshold, 3), round(cal.test_rates.far, 3)
    (0.041, 0.0)
    >>> Path("runs/digits/calibration.json").is_file()  # where evaluate and verify find it
    True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from siamkit.apps.signatures.evaluate import (
    SignatureDistances,
    run_folder,
    select_writers,
    signature_distances,
)
from siamkit.evaluation.calibrated_run import fit_calibration
from siamkit.run import Calibration, CalibrationSource

AGAINST = ("skilled", "random", "both")


def calibrate_signatures(
    run_dir: str | Path,
    root: str | Path | None = None,
    writers: str | None = None,
    against: str = "skilled",
    target_far: float | None = None,
    objective: str = "accuracy",
    method: str = "platt",
    test_fraction: float = 0.5,
    random_per_genuine: int = 10,
    seed: int = 0,
) -> Calibration:
    """Fit a run's threshold on validation writers' genuine pairs against forgeries; save it.

    Args:
        run_dir: A run trained on ``cedar:DIR`` or ``cedar-hands:DIR``.
        root: The CEDAR-layout folder; default the run's.
        writers: Writers to calibrate on; default the run's validation classes.
        against: ``skilled``, ``random`` or ``both``: the forgeries the threshold must stop.
        target_far, objective: How the threshold is chosen (see
            :func:`siamkit.evaluation.calibration.fit_threshold`): a false accept rate to stay
            under, or the best ``accuracy`` / ``f1``. Pairs are balanced (as many forgery
            pairs as genuine ones, subsampled), so the best accuracy is the least half total
            error rate (FAR + FRR) / 2.
        method: ``platt`` or ``isotonic`` probability map.
        test_fraction: Share of the writers held out to test the threshold on (0: none).
        random_per_genuine: Random forgeries per genuine signature.
        seed: Seeds the writer split and the random forgeries.

    Returns:
        The :class:`Calibration`, also written to ``RUN/calibration.json``.

    Raises:
        ValueError: Bad settings, no writers to calibrate on, or too few pairs.
    """
    from siamkit.training import load_run

    if against not in AGAINST:
        raise ValueError(f"unknown against '{against}'; choose one of: {', '.join(AGAINST)}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), e.g. 0.5; got {test_fraction}")
    run = load_run(run_dir)
    folder = run_folder(run, run_dir, root)
    spec = writers or run.config.val_classes
    if spec is None or spec == "none":
        refit = "refit" in run.metrics  # the final model trained on every training writer
        raise ValueError(
            f"run {run_dir} was refit on every training writer (siamkit train's default), so "
            "none is left unseen to calibrate on; train it with --no-refit (as "
            "docs/applications/signatures.md does)"
            if refit
            else f"run {run_dir} names no validation writers (--val-classes); name the "
            "training-side writers to calibrate on with --writers"
        )
    everyone = select_writers(folder, spec)
    cal_w, test_w = _split(everyone, test_fraction, seed)
    cal = signature_distances(run, folder, ",".join(cal_w), random_per_genuine, seed)
    same, dist = _pairs(cal, against, seed)
    test_same = test_dist = None
    if test_w:
        test = signature_distances(run, folder, ",".join(test_w), random_per_genuine, seed + 1)
        test_same, test_dist = _pairs(test, against, seed + 1)
    evals = set(_eval_writers(folder, run.config.eval_classes))
    source = CalibrationSource(
        data=f"cedar:{folder} (genuine vs {against} forgeries)",
        split="train",
        checkpoint="best",
        split_by="class" if test_w else "none",
        calibration_classes=cal_w,
        test_classes=test_w,
        calibration_items=cal.genuine_signatures + cal.forgeries,
        test_items=0 if not test_w else test.genuine_signatures + test.forgeries,
        num_pairs=len(same),
        seed=seed,
        eval_classes_used=[w for w in everyone if w in evals],
    )
    result = fit_calibration(
        same,
        dist,
        distance=run.spec.distance,
        larger_is_closer=cal.larger_is_closer,
        target_far=target_far,
        objective=objective,
        method=method,
        test_same=test_same,
        test_distances=test_dist,
        source=source,
    )
    result.save(run_dir)
    return result


def _eval_writers(folder: str | Path, spec: str) -> list[str]:
    """The run's evaluation writers in this folder (none if its spec does not apply here)."""
    try:
        return select_writers(folder, spec)
    except ValueError:
        return []


def _split(writers: list[str], test_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Calibration and test writers (2+ in each), or all for calibration when too few."""
    n = len(writers)
    if test_fraction == 0.0 or n < 4:
        return list(writers), []
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    n_test = min(max(round(n * test_fraction), 2), n - 2)
    test = {writers[i] for i in perm[:n_test]}
    return [w for w in writers if w not in test], [w for w in writers if w in test]


def _pairs(
    d: SignatureDistances, against: str, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """``(K,)`` same labels (1 = genuine pair) and distances, balanced: as many forgery pairs
    as genuine pairs (the larger kind subsampled, seeded), so best accuracy is least HTER."""
    negatives = {
        "skilled": d.skilled,
        "random": d.random,
        "both": np.concatenate([d.skilled, d.random]),
    }[against]
    if len(negatives) == 0 or len(d.genuine) == 0:
        raise ValueError(
            f"the writers {d.writers} give {len(d.genuine)} genuine pairs and {len(negatives)} "
            f"{against} forgery pairs; both are needed (use --against random or more writers)"
        )
    rng = np.random.default_rng(seed)
    n = min(len(d.genuine), len(negatives))
    pos = rng.choice(d.genuine, size=n, replace=False) if len(d.genuine) > n else d.genuine
    neg = rng.choice(negatives, size=n, replace=False) if len(negatives) > n else negatives
    same = np.r_[np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)]
    return same, np.concatenate([pos, neg])
