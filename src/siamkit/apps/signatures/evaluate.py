"""Writer-independent signature verification: the three kinds of pairs and their error rates.

For the writers evaluated on (never trained on):

* genuine / genuine: every two genuine signatures of one writer (should be accepted);
* genuine / skilled forgery: each genuine signature of a writer with each forgery of it;
* genuine / random forgery: each genuine signature with ``random_per_genuine`` genuine
  signatures of other evaluated writers (another name in another hand).

The EER (scikit-learn's ROC, as :func:`siamkit.evaluation.verification_metrics`) and the FAR
and FRR at a fixed threshold (:func:`siamkit.evaluation.calibration.error_rates`) are reported
separately against skilled and against random forgeries; FRR is the same for both (the
genuine pairs are shared).

Example (a tiny synthetic set, scored with runs/digits, a digits model: any image run reads
the signatures at its own input size; a run trained on ``cedar:sigs`` does far better):
    >>> from siamkit.apps.signatures.dataset import render_signature_set
    >>> info = render_signature_set(
    ...     "sigs", writers=10, val_writers=4, eval_writers=3, genuine=4, forgeries=2
    ... )
    >>> report = evaluate_signatures("runs/digits", "sigs", writers="8-10")
    >>> report.writers, report.genuine_signatures, report.forgeries, report.threshold_source
    (['8', '9', '10'], 12, 6, 'calibration.json')
    >>> report.skilled.genuine_pairs, report.skilled.forgery_pairs, report.random.forgery_pairs
    (18, 24, 96)
    >>> round(report.skilled.eer, 3), round(report.random.eer, 3)
    (0.292, 0.222)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from siamkit.apps.signatures.cedar import read_cedar, scan_cedar
from siamkit.data.splits import parse_classes
from siamkit.evaluation import embed_all
from siamkit.evaluation.calibration import error_rates
from siamkit.evaluation.verification import verification_metrics
from siamkit.run import open_run

if TYPE_CHECKING:
    from siamkit.run.checkpoint import LoadedRun


class SignaturePairs(NamedTuple):
    """Pairs as index rows ``(K, 2)``; column 0 indexes the genuine signatures.

    Attributes:
        genuine: Two genuine signatures of one writer (indices into the genuine set).
        skilled: A genuine signature and a forgery of the same writer (genuine, forged index).
        random: Genuine signatures of two different writers (both genuine indices).
    """

    genuine: Tensor
    skilled: Tensor
    random: Tensor


def signature_pairs(
    genuine_writer: Tensor,
    forged_writer: Tensor,
    random_per_genuine: int = 10,
    seed: int = 0,
) -> SignaturePairs:
    """The three kinds of pairs among the given signatures (see the module docstring).

    Args:
        genuine_writer: ``(G,)`` writer of each genuine signature.
        forged_writer: ``(F,)`` writer each forgery imitates.
        random_per_genuine: Random forgeries drawn for each genuine signature (other writers'
            genuine signatures, uniformly, without repeating within one signature).
        seed: Seeds the random forgeries.

    Example:
        >>> p = signature_pairs(torch.tensor([1, 1, 2]), torch.tensor([1]), random_per_genuine=1)
        >>> p.genuine.tolist(), p.skilled.tolist()
        ([[0, 1]], [[0, 0], [1, 0]])
    """
    gw, fw = genuine_writer.long(), forged_writer.long()
    same = gw[:, None] == gw[None, :]  # (G, G)
    genuine = torch.triu(same, diagonal=1).nonzero()  # (Kg, 2), i < j
    skilled = (gw[:, None] == fw[None, :]).nonzero()  # (Ks, 2)
    g = torch.Generator().manual_seed(seed)
    rows: list[Tensor] = []
    for i in range(len(gw)):
        others = (~same[i]).nonzero().flatten()
        k = min(random_per_genuine, len(others))
        if k == 0:
            continue
        pick = others[torch.randperm(len(others), generator=g)[:k]]
        rows.append(torch.stack([torch.full((k,), i), pick], dim=1))
    random = torch.cat(rows) if rows else torch.zeros(0, 2, dtype=torch.long)
    return SignaturePairs(genuine, skilled, random)


@dataclass(frozen=True)
class ForgeryRates:
    """Verification against one kind of forgery.

    Attributes:
        eer: Equal error rate over the genuine and forgery pairs.
        roc_auc: Area under the ROC curve.
        far: Share of forgery pairs accepted at the threshold.
        frr: Share of genuine pairs rejected at the threshold.
        genuine_pairs, forgery_pairs: How many pairs of each.
    """

    eer: float
    roc_auc: float
    far: float
    frr: float
    genuine_pairs: int
    forgery_pairs: int


def forgery_rates(
    genuine_distances: npt.ArrayLike,
    forgery_distances: npt.ArrayLike,
    threshold: float,
    larger_is_closer: bool = False,
) -> ForgeryRates:
    """EER, ROC-AUC, and FAR / FRR at ``threshold`` from ``(Kg,)`` and ``(Kf,)`` distances.

    A pair is accepted when its distance is ``<= threshold`` (``>=`` for similarities).

    Example:
        >>> forgery_rates([0.1, 0.3], [0.2, 0.9], threshold=0.25).far
        0.5
    """
    dg = np.asarray(genuine_distances, dtype=np.float64)
    df = np.asarray(forgery_distances, dtype=np.float64)
    if dg.size == 0 or df.size == 0:
        raise ValueError(
            f"need genuine and forgery pairs; got {dg.size} genuine and {df.size} forgery pairs "
            "(each writer needs 2+ genuine signatures, and forgeries or other writers)"
        )
    same = np.concatenate([np.ones(dg.size, dtype=np.int64), np.zeros(df.size, dtype=np.int64)])
    d = np.concatenate([dg, df])
    m = verification_metrics(same, d if larger_is_closer else -d)
    r = error_rates(same, d, threshold, larger_is_closer)
    return ForgeryRates(m.eer, m.roc_auc, r.far, r.frr, int(dg.size), int(df.size))


@dataclass(frozen=True)
class SignatureReport:
    """Writer-independent verification of a run on a CEDAR-layout folder.

    Attributes:
        writers: The writers evaluated.
        threshold: The decision threshold used (distance units).
        threshold_source: ``calibration.json``, ``validation`` (the run's) or ``given``.
        skilled: Rates against skilled forgeries (None when the folder has none).
        random: Rates against random forgeries.
        genuine_signatures, forgeries: Images read.
    """

    writers: list[str]
    threshold: float
    threshold_source: str
    skilled: ForgeryRates | None
    random: ForgeryRates
    genuine_signatures: int
    forgeries: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


class SignatureDistances(NamedTuple):
    """Distances of the three kinds of pairs among some writers' signatures, by one run.

    Attributes:
        genuine, skilled, random: ``(Kg,)``, ``(Ks,)``, ``(Kr,)`` pair distances.
        writers: The writers' names (CEDAR numbers as strings).
        genuine_signatures, forgeries: Images embedded.
        larger_is_closer: Whether the run's distance is a similarity.
    """

    genuine: npt.NDArray[np.float64]
    skilled: npt.NDArray[np.float64]
    random: npt.NDArray[np.float64]
    writers: list[str]
    genuine_signatures: int
    forgeries: int
    larger_is_closer: bool


def signature_distances(
    run: LoadedRun,
    root: str | Path,
    writers: str,
    random_per_genuine: int = 10,
    seed: int = 0,
) -> SignatureDistances:
    """Embed the signatures of ``writers`` in a CEDAR-layout folder and measure every pair.

    Args:
        run: A loaded run (:func:`siamkit.training.load_run`) of an image model.
        root: The CEDAR-layout folder.
        writers: Writer spec such as ``41-60`` (numbers as in the file names).
        random_per_genuine: Random forgeries per genuine signature.
        seed: Seeds the random forgeries.
    """

    if run.spec.kind != "image" or len(run.spec.input_shape) != 3:
        raise ValueError("this run is not an image model; it cannot read signatures")
    _, h, w = run.spec.input_shape
    chosen = [int(x) for x in select_writers(root, writers)]
    data = read_cedar(root, (h, w))
    keep_g = torch.isin(data.genuine_writer, torch.tensor(chosen))
    keep_f = torch.isin(data.forged_writer, torch.tensor(chosen))
    gx, gw = data.genuine[keep_g], data.genuine_writer[keep_g]
    fx, fw = data.forged[keep_f], data.forged_writer[keep_f]
    pairs = signature_pairs(gw, fw, random_per_genuine, seed)
    ge = embed_all(run.model, gx)  # (G, D)
    fe = embed_all(run.model, fx) if len(fx) else ge[:0]  # (F, D)
    dist = run.model.distance

    def between(a: Tensor, b: Tensor, rows: Tensor) -> npt.NDArray[np.float64]:
        return dist.pairwise(a[rows[:, 0]], b[rows[:, 1]]).double().numpy()  # (K,)

    return SignatureDistances(
        genuine=between(ge, ge, pairs.genuine),
        skilled=between(ge, fe, pairs.skilled),
        random=between(ge, ge, pairs.random),
        writers=[str(c) for c in chosen],
        genuine_signatures=len(gx),
        forgeries=len(fx),
        larger_is_closer=dist.larger_is_closer,
    )


def select_writers(root: str | Path, writers: str) -> list[str]:
    """The writers of a CEDAR-layout folder named by a spec such as ``41-60`` (numbers as in the
    file names; ranges are over the writers present), in ascending order."""

    genuine, _ = scan_cedar(root)
    names = [str(w) for w in sorted({f.writer for f in genuine})]
    return sorted((names[i] for i in parse_classes(writers, names)), key=int)


def run_folder(run: LoadedRun, run_dir: str | Path, root: str | Path | None) -> str | Path:
    """``root``, or the folder of the run's own ``cedar:DIR`` / ``cedar-hands:DIR`` data."""
    if root is not None:
        return root
    name, _, arg = run.config.data.partition(":")
    if name not in ("cedar", "cedar-hands") or not arg:
        raise ValueError(
            f"run {run_dir} was trained on {run.config.data}, not a CEDAR-layout folder; "
            "pass the folder (--data DIR)"
        )
    return arg


def evaluate_signatures(
    run_dir: str | Path,
    root: str | Path | None = None,
    writers: str | None = None,
    threshold: float | None = None,
    random_per_genuine: int = 10,
    seed: int = 0,
) -> SignatureReport:
    """Embed a CEDAR-layout folder's signatures with a run and rate all three kinds of pairs.

    Args:
        run_dir: A run from ``siamkit train`` (on ``cedar:DIR`` or ``cedar-hands:DIR``).
        root: The folder; default the run's own data folder.
        writers: Writer spec such as ``41-60``; default the run's evaluation classes.
        threshold: Override; default the run's ``calibration.json``, else its validation one.
        random_per_genuine: Random forgeries per genuine signature.
        seed: Seeds the random forgeries.

    Raises:
        ValueError: Not a run, no folder, unknown writers or no threshold; says how to fix it.
    """
    from siamkit.training import load_run

    run = load_run(run_dir)
    folder = run_folder(run, run_dir, root)
    thr, source = _threshold(run_dir, run.model.distance.larger_is_closer, threshold)
    d = signature_distances(
        run, folder, writers or run.config.eval_classes, random_per_genuine, seed
    )
    closer = d.larger_is_closer
    skilled = forgery_rates(d.genuine, d.skilled, thr, closer) if len(d.skilled) else None
    return SignatureReport(
        writers=d.writers,
        threshold=thr,
        threshold_source=source,
        skilled=skilled,
        random=forgery_rates(d.genuine, d.random, thr, closer),
        genuine_signatures=d.genuine_signatures,
        forgeries=d.forgeries,
    )


# where the run's rule came from, as the signature report names it
_SOURCE_NAMES = {"calibration": "calibration.json", "operating_point": "calibration.json"}


def _threshold(
    run_dir: str | Path, larger_is_closer: bool, given: float | None
) -> tuple[float, str]:
    if given is not None:
        return float(given), "given"
    rule = open_run(run_dir).decision_rule(larger_is_closer)
    if rule is None:
        raise ValueError(
            f"run {run_dir} has no threshold (no calibration, no validation split); run "
            "`siamkit calibrate` on validation writers or pass --threshold"
        )
    return rule.threshold, _SOURCE_NAMES.get(rule.source, rule.source)
