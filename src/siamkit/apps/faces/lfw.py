"""Labeled Faces in the Wild: its folder layout, its ``pairs.txt`` protocol and 10-fold accuracy.

LFW (Huang et al., "Labeled Faces in the Wild: A Database for Studying Face Recognition in
Unconstrained Environments", UMass TR 07-49, 2007) is published as one folder per person,
``lfw/NAME/NAME_0001.jpg`` (numbers from 1, four digits), and a ``pairs.txt`` whose first line
is ``10 300``: 10 folds, each with 300 same-person pairs followed by 300 different-person
pairs. A same-person line is ``NAME i j``, a different-person line ``NAME1 i NAME2 j``
(fields separated by tabs or spaces). ``pairsDevTrain.txt`` has a one-number header (one fold).

The standard ("image-restricted, unsupervised / outside data") figure is the 10-fold accuracy:
for each fold, the decision threshold is the one with the best accuracy on the other 9 folds,
and the accuracy is measured on the held-out fold; the report is the mean over the folds with
the standard error ``std / sqrt(10)`` (``std`` with ``ddof=1``, as LFW's README defines it).

Example (on a tiny offline stand-in in LFW's layout, :mod:`siamkit.apps.faces.views`; with
LFW itself, ``read_pairs("lfw/pairs.txt")`` and ``evaluate_lfw(FaceEmbedder(), "lfw", ...)``):
    >>> from siamkit.apps.faces.embedder import FaceEmbedder
    >>> from siamkit.apps.faces.views import build_face_views
    >>> views = build_face_views("views", people=4, images_per_person=2, folds=2)
    >>> protocol = read_pairs(views.pairs_file)
    >>> protocol.folds, len(protocol.pairs)
    (2, 8)
    >>> result = evaluate_lfw(FaceEmbedder(), views.lfw_dir, protocol)
    >>> print(f"{result.accuracy.mean:.4f} ± {result.accuracy.standard_error:.4f}")
    0.8750 ± 0.1250
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from siamkit.evaluation.verification import VerificationMetrics, verification_metrics
from siamkit.runtime.distances import pair_distances


@dataclass(frozen=True)
class LfwPair:
    """One line of ``pairs.txt``.

    Attributes:
        name_a, number_a: First image: person and 1-based image number.
        name_b, number_b: Second image (``name_b == name_a`` on a same-person line).
        same: True on a same-person line (three fields), False on a different-person line.
        fold: 0-based fold the line belongs to.
    """

    name_a: str
    number_a: int
    name_b: str
    number_b: int
    same: bool
    fold: int


class LfwProtocol(NamedTuple):
    """A parsed ``pairs.txt``.

    Attributes:
        folds: Number of folds (10 in ``pairs.txt``).
        per_fold: Pairs of each kind per fold (300 in ``pairs.txt``).
        pairs: ``folds * 2 * per_fold`` pairs in file order.
    """

    folds: int
    per_fold: int
    pairs: list[LfwPair]

    @property
    def same(self) -> npt.NDArray[np.bool_]:
        """``(P,)`` True for same-person pairs."""
        return np.array([p.same for p in self.pairs], dtype=bool)

    @property
    def fold_ids(self) -> npt.NDArray[np.int64]:
        """``(P,)`` fold of each pair."""
        return np.array([p.fold for p in self.pairs], dtype=np.int64)


def image_path(lfw_dir: str | Path, name: str, number: int) -> Path:
    """Where LFW keeps image ``number`` of ``name``: ``lfw_dir/NAME/NAME_0001.jpg``."""
    return Path(lfw_dir) / name / f"{name}_{number:04d}.jpg"


def read_pairs(path: str | Path) -> LfwProtocol:
    """Parse a ``pairs.txt`` (header ``FOLDS N``, or ``N`` for one fold).

    Raises:
        ValueError: A missing file, a bad header, a line of the wrong form or in the wrong
            block, or a count that does not match the header; names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"pairs file not found: {path} (LFW's is lfw/../pairs.txt)")
    lines = [(n, line.split()) for n, line in enumerate(path.read_text().splitlines(), 1)]
    lines = [(n, f) for n, f in lines if f]
    if not lines:
        raise ValueError(f"{path} is empty; expected a header such as '10 300'")
    head_no, head = lines[0]
    if not 1 <= len(head) <= 2 or not all(h.isdigit() and int(h) > 0 for h in head):
        raise ValueError(
            f"{path} line {head_no}: header {' '.join(head)!r} is not 'FOLDS PAIRS' (e.g. "
            "'10 300') or 'PAIRS'"
        )
    folds, per_fold = (1, int(head[0])) if len(head) == 1 else (int(head[0]), int(head[1]))
    body = lines[1:]
    if len(body) != folds * 2 * per_fold:
        raise ValueError(
            f"{path}: the header says {folds} folds x 2 x {per_fold} pairs = "
            f"{folds * 2 * per_fold} lines, the file has {len(body)}"
        )
    pairs = []
    for k, (n, fields) in enumerate(body):
        fold, within = divmod(k, 2 * per_fold)
        same = within < per_fold
        want = 3 if same else 4
        form = "NAME i j" if same else "NAME1 i NAME2 j"
        if len(fields) != want:
            raise ValueError(
                f"{path} line {n}: {' '.join(fields)!r} has {len(fields)} fields; line "
                f"{within + 1} of fold {fold + 1} is a {'same' if same else 'different'}-person "
                f"pair '{form}'"
            )
        names = (fields[0], fields[0]) if same else (fields[0], fields[2])
        nums = (fields[1], fields[2]) if same else (fields[1], fields[3])
        if not all(x.isdigit() and int(x) > 0 for x in nums):
            raise ValueError(
                f"{path} line {n}: image numbers {nums} must be positive integers ('{form}')"
            )
        pairs.append(LfwPair(names[0], int(nums[0]), names[1], int(nums[1]), same, fold))
    return LfwProtocol(folds, per_fold, pairs)


def write_pairs(path: str | Path, protocol: LfwProtocol) -> Path:
    """Write ``protocol`` in ``pairs.txt``'s format (the inverse of :func:`read_pairs`).

    Raises:
        ValueError: Pairs not ordered as the format requires (per fold: ``per_fold`` same,
            then ``per_fold`` different).
    """
    expected = [
        (fold, within < protocol.per_fold)
        for fold in range(protocol.folds)
        for within in range(2 * protocol.per_fold)
    ]
    if [(p.fold, p.same) for p in protocol.pairs] != expected:
        raise ValueError(
            f"pairs must come fold by fold, {protocol.per_fold} same-person then "
            f"{protocol.per_fold} different-person pairs each"
        )
    rows = [f"{protocol.folds}\t{protocol.per_fold}"]
    for p in protocol.pairs:
        if p.same:
            rows.append(f"{p.name_a}\t{p.number_a}\t{p.number_b}")
        else:
            rows.append(f"{p.name_a}\t{p.number_a}\t{p.name_b}\t{p.number_b}")
    path = Path(path)
    path.write_text("\n".join(rows) + "\n")
    return path


class FoldAccuracy(NamedTuple):
    """k-fold verification accuracy.

    Attributes:
        mean: Mean of the per-fold accuracies.
        std: Their standard deviation (``ddof=1``).
        standard_error: ``std / sqrt(k)``, the ± LFW results are reported with.
        per_fold: Accuracy on each held-out fold.
        thresholds: Distance threshold chosen on the other folds, for each fold.
    """

    mean: float
    std: float
    standard_error: float
    per_fold: tuple[float, ...]
    thresholds: tuple[float, ...]


def best_threshold(distances: npt.ArrayLike, same: npt.ArrayLike) -> float:
    """The distance threshold with the best accuracy on these pairs (same if ``d <= t``).

    Candidates are the midpoints between consecutive distinct distances, plus one below all
    and one above all; on a tie the smallest wins.

    Args:
        distances: ``(P,)`` pair distances, smaller = more alike.
        same: ``(P,)`` True for same-identity pairs.
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    u = np.unique(d)  # sorted distinct distances
    candidates = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1.0]])
    accepted_same = np.searchsorted(np.sort(d[s]), candidates, side="right")  # (T,)
    accepted_diff = np.searchsorted(np.sort(d[~s]), candidates, side="right")  # (T,)
    correct = accepted_same + (int((~s).sum()) - accepted_diff)  # (T,)
    return float(candidates[int(np.argmax(correct))])


def k_fold_accuracy(
    distances: npt.ArrayLike, same: npt.ArrayLike, fold_ids: npt.ArrayLike
) -> FoldAccuracy:
    """Accuracy on each fold at the threshold chosen on all the other folds (LFW's protocol).

    Args:
        distances: ``(P,)`` pair distances, smaller = more alike (negate similarities).
        same: ``(P,)`` True for same-identity pairs.
        fold_ids: ``(P,)`` fold of each pair; at least two folds.

    Raises:
        ValueError: Arrays of different lengths, non-finite distances, or fewer than 2 folds.
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    f = np.asarray(fold_ids)
    if not d.shape == s.shape == f.shape or d.ndim != 1:
        raise ValueError(
            f"distances, same and fold_ids must be (P,) arrays of one length; got {d.shape}, "
            f"{s.shape}, {f.shape}"
        )
    if not np.isfinite(d).all():
        raise ValueError("distances contain NaN or infinity; the model produced bad embeddings")
    folds = np.unique(f)
    if len(folds) < 2:
        raise ValueError(
            f"k-fold accuracy needs at least 2 folds; got {len(folds)} (a one-fold pairs file "
            "such as pairsDevTrain.txt is for choosing a threshold, not for this figure)"
        )
    accs, thresholds = [], []
    for k in folds:
        test = f == k
        t = best_threshold(d[~test], s[~test])
        accs.append(float(np.mean((d[test] <= t) == s[test])))
        thresholds.append(t)
    std = float(np.std(accs, ddof=1))
    return FoldAccuracy(
        mean=float(np.mean(accs)),
        std=std,
        standard_error=std / float(np.sqrt(len(accs))),
        per_fold=tuple(accs),
        thresholds=tuple(thresholds),
    )


class LfwResult(NamedTuple):
    """An embedder's LFW figures.

    Attributes:
        accuracy: 10-fold accuracy (:func:`k_fold_accuracy`).
        verification: ROC-AUC, EER and best accuracy over all pairs pooled.
        distances: ``(P,)`` distance of each pair, in file order.
        images: Distinct images embedded.
    """

    accuracy: FoldAccuracy
    verification: VerificationMetrics
    distances: npt.NDArray[np.float64]
    images: int


def evaluate_lfw(
    embedder: Any,
    lfw_dir: str | Path,
    protocol: LfwProtocol | str | Path,
    chunk: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> LfwResult:
    """Embed every image a protocol names (each once) and score its pairs.

    Args:
        embedder: An :class:`~siamkit.run.Embedder` with a ``load(paths)`` method (a
            :class:`~siamkit.apps.faces.embedder.FaceEmbedder`, or a trained image run).
        lfw_dir: The folder holding one subfolder per person.
        protocol: A parsed protocol or the path of ``pairs.txt``.
        chunk: Images read and embedded at a time (bounds memory).
        progress: Called with (images done, images total) after each chunk.

    Raises:
        ValueError: Images missing from ``lfw_dir`` (the first few named), or an image the
            embedder refuses (e.g. no face found), named.
    """
    if not isinstance(protocol, LfwProtocol):
        protocol = read_pairs(protocol)
    keys = sorted(
        {(p.name_a, p.number_a) for p in protocol.pairs}
        | {(p.name_b, p.number_b) for p in protocol.pairs}
    )
    files = [image_path(lfw_dir, name, number) for name, number in keys]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ValueError(
            f"{len(missing)} images named by the pairs are not in {lfw_dir}, e.g. "
            f"{', '.join(missing[:3])}; expected LFW's layout lfw/NAME/NAME_0001.jpg"
        )
    emb = _embed_files(embedder, files, chunk, progress)  # (I, D)
    row = {key: i for i, key in enumerate(keys)}
    ia = [row[(p.name_a, p.number_a)] for p in protocol.pairs]
    ib = [row[(p.name_b, p.number_b)] for p in protocol.pairs]
    own = getattr(embedder, "pair_distances", None)
    if own is not None:
        d = np.asarray(own(emb[ia], emb[ib]), dtype=np.float64)
    else:
        d = pair_distances(emb[ia], emb[ib], embedder.distance).astype(np.float64)
    closer = -d if not getattr(embedder, "larger_is_closer", False) else d
    same = protocol.same
    return LfwResult(
        accuracy=k_fold_accuracy(-closer, same, protocol.fold_ids),
        verification=verification_metrics(same.astype(int), closer),
        distances=d,
        images=len(files),
    )


def _embed_files(
    embedder: Any,
    files: Sequence[Path],
    chunk: int,
    progress: Callable[[int, int], None] | None,
) -> npt.NDArray[np.float32]:
    loader = getattr(embedder, "load", None)
    if loader is None:
        raise ValueError(f"{type(embedder).__name__} cannot read image files (it has no load())")
    parts = []
    for i in range(0, len(files), chunk):
        x, _ = loader([str(f) for f in files[i : i + chunk]])
        parts.append(np.asarray(embedder.embed(x), dtype=np.float32))
        if progress is not None:
            progress(min(i + chunk, len(files)), len(files))
    return np.concatenate(parts)
