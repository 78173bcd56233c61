"""Choosing the duplicate threshold from the data (``--threshold auto``).

Each passage's best similarity to a passage of another document is either high (it has a
copy) or spread lower (it has none). Otsu's method (Otsu, "A threshold selection method from
gray-level histograms", 1979) picks the cut that best separates the two; the cut is never set
below ``FLOOR``, so a corpus without duplicates (one mode, no real gap) does not get a low
threshold that would call related documents copies.

Example:
    >>> otsu([0.30, 0.35, 0.40, 0.97, 0.99])
    0.685
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FLOOR = 0.7  # cosine; MiniLM paraphrases mostly score above, unrelated texts below


def otsu(values: npt.ArrayLike, bins: int = 128) -> float:
    """The cut that maximises the between-class variance of ``values`` (histogram of ``bins``),
    placed midway between the largest value below it and the smallest above."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2 or v.min() == v.max():
        return float(v.max()) if len(v) else 0.0
    hist, edges = np.histogram(v, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)  # counts at or below each bin
    w1 = len(v) - w0
    s0 = np.cumsum(hist * centres)
    m0 = s0 / np.maximum(w0, 1)
    m1 = (s0[-1] - s0) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    cut = edges[int(np.argmax(between[:-1])) + 1]
    # the middle of the gap the cut falls in, not its lower edge
    return float((v[v < cut].max() + v[v >= cut].min()) / 2)


def auto_threshold(best: npt.ArrayLike, floor: float = FLOOR) -> float:
    """Otsu's cut over passages' best other-document similarities, at least ``floor``."""
    return max(otsu(best), floor)
