"""The default operating point of a refit run, fitted on held-out classes and carried over.

:func:`operating_point` fits the distance threshold for the target FAR, and the distance ->
P(same) map, on pairs of the classes the selection run held out, then carries them to the final
(refit) model's distance scale (:func:`match_scale`). :func:`operating_point_caution` says how
rough the promise is when it rests on few pairs of unseen classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from siamkit.data.labelled import LabelledData
from siamkit.evaluation.calibrated_run import fit_calibration, pair_distances
from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork
from siamkit.run import Calibration, CalibrationSource
from siamkit.run.config import TrainConfig
from siamkit.run.decision import promise_basis
from siamkit.training.setup import PreparedData

OPERATING_PAIRS = 20_000  # balanced pairs the operating point is fitted on
SCALE_ITEMS = 5_000  # training items whose impostor pairs match the two models' scales


def operating_point(
    selection: SiameseNetwork,
    final: SiameseNetwork,
    prepared: PreparedData,
    config: TrainConfig,
    device: torch.device | str = "cpu",
    *,
    checkpoint: str,
) -> tuple[Calibration, dict[str, Any]] | None:
    """The final model's operating point for ``config.target_far``, chosen on held-out classes.

    The selection model's distances on balanced pairs *between held-out classes* (what
    evaluation on unseen classes sees; with fewer than two classes held out whole, pairs of all
    validation items, which is optimistic and recorded as such) are carried to the final model's
    scale, which has seen those classes, by matching the two models' distance quantiles on the
    same impostor pairs of the classes *both* trained on (:func:`match_scale`). The threshold
    for the target FAR and the P(same) map are fitted on the carried distances, so the promised
    FAR is the selection model's FAR on held-out classes. None without validation data.

    Args:
        selection: The selection run's best model (trained without the held-out data).
        final: The refit model.
        prepared: The selection run's data split.
        checkpoint: Where the fitted distances came from, as the calibration records it.

    Returns:
        The calibration (threshold + P(same) map) and the ``operating_point`` record.
    """
    classes_only = held_out_data(prepared)
    val = classes_only if classes_only is not None else prepared.val
    if val is None:
        return None
    fitted_on = "held-out classes" if classes_only is not None else "held-out items"
    dist = selection.distance
    emb = embed_all(selection, val.x, device=device)  # (N, D)
    same, d = pair_distances(emb, val.y, OPERATING_PAIRS, config.seed, dist)
    # impostor pairs among items both models trained on, embedded by each
    g = torch.Generator().manual_seed(config.seed)
    both = prepared.train
    if len(both) > SCALE_ITEMS:
        both = both.subset(torch.randperm(len(both), generator=g)[:SCALE_ITEMS].sort().values)
    scale_same, before = pair_distances(
        embed_all(selection, both.x, device=device), both.y, OPERATING_PAIRS, config.seed, dist
    )
    _, after = pair_distances(
        embed_all(final, both.x, device=device), both.y, OPERATING_PAIRS, config.seed, dist
    )
    impostor = scale_same == 0
    carried = match_scale(d, before[impostor], after[impostor])
    names = [val.class_names[c] for c in torch.unique(val.y).tolist()]
    source = CalibrationSource(
        data=config.data,
        split="train",
        checkpoint=checkpoint,
        split_by="none",
        calibration_classes=names,
        test_classes=[],
        calibration_items=len(val),
        test_items=0,
        num_pairs=OPERATING_PAIRS,
        seed=config.seed,
    )
    cal = fit_calibration(
        same,
        carried,
        distance=config.distance,
        larger_is_closer=dist.larger_is_closer,
        target_far=config.target_far,
        source=source,
    )
    record = {
        "threshold": cal.threshold,
        "target_far": config.target_far,
        "promised_far": cal.calibration_rates.far,
        "promised_frr": cal.calibration_rates.frr,
        "fitted_on": fitted_on,
        "classes": names,
        "pairs": len(same),
        # class pairs the promise rests on that the selection model never trained on
        "unseen_class_pairs": len(names) * (len(names) - 1) // 2 if classes_only is not None else 0,
        "carried_by": "impostor-distance quantiles on training classes both models saw",
    }
    return cal, record


def operating_point_caution(record: dict[str, Any], run: str = "RUN") -> str | None:
    """What to tell the user when the promised FAR rests on few unseen class pairs, else None.

    Which classes are unseen moves the FAR at a threshold far more than the number of pairs
    does: with one held-out class pair the promise can be off by several times either way.

    Example:
        >>> operating_point_caution({"unseen_class_pairs": 1, "target_far": 0.05})[:47]
        'the promised FAR rests on 1 pair of classes the'
        >>> operating_point_caution({"unseen_class_pairs": 10, "target_far": 0.05}) is None
        True
    """
    basis = promise_basis(record.get("unseen_class_pairs"))
    if basis is None:
        return None
    return (
        f"the promised FAR rests on {basis}; on other unseen classes the FAR at this threshold "
        f"can be several times higher or lower. Hold out more classes (--val-classes) or fit "
        f"the threshold on classes the model did not train on (siamkit calibrate {run} --data "
        f"... --classes ... --target-far {record.get('target_far')})"
    )


def match_scale(
    values: npt.NDArray[np.float64],
    before: npt.NDArray[np.float64],
    after: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Carry distances of one model to another's scale by quantile matching.

    A value at quantile ``q`` of ``before`` (one model's distances on some pairs) goes to
    quantile ``q`` of ``after`` (the other model's distances on the same pairs); values outside
    ``before``'s range move by the shift at that end. The map is increasing, so the order of
    ``values``, and any rate counted at a carried threshold, is kept.

    Args:
        values: ``(K,)`` distances of the first model.
        before, after: ``(M,)`` the two models' distances on the same reference pairs.

    Example:
        >>> match_scale(np.array([1.0]), np.array([0.0, 2.0]), np.array([0.0, 4.0]))
        array([2.])
    """
    levels = np.linspace(0.0, 1.0, 1001)
    qa = np.maximum.accumulate(np.quantile(before, levels))
    qb = np.maximum.accumulate(np.quantile(after, levels))
    out = np.interp(values, qa, qb)
    out = np.where(values < qa[0], values - qa[0] + qb[0], out)
    return np.where(values > qa[-1], values - qa[-1] + qb[-1], out)


def held_out_data(prepared: PreparedData) -> LabelledData | None:
    """The validation items of the classes held out whole (None if fewer than two)."""
    if prepared.val is None or len(prepared.held_out) < 2:
        return None
    keep = torch.isin(prepared.val.y, torch.tensor(list(prepared.held_out)))
    return prepared.val.subset(keep.nonzero().flatten())
