"""Hostile input, stale state and corrupt files (issue 25): every one is answered right or
refused with a GalleryError naming the input and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.fakes import VectorEmbedder
from siamkit.index import Gallery, GalleryError


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), -1.0])
def test_non_finite_or_negative_thresholds_are_refused(tmp_path: Path, bad: float) -> None:
    vec = VectorEmbedder()
    with pytest.raises(GalleryError, match="threshold"):
        Gallery.create(tmp_path / "g", vec, threshold=bad)
    assert not (tmp_path / "g").exists()
    with Gallery.create(tmp_path / "ok", vec, threshold=0.5) as g:
        g.enroll_embeddings(np.eye(4, dtype=np.float32), "a")
        with pytest.raises(GalleryError, match="threshold"):
            g.reembed(VectorEmbedder(seed=1), threshold=bad)
        assert g.fingerprint == vec.fingerprint  # nothing changed
    with pytest.raises(GalleryError, match="threshold"):
        Gallery.open(tmp_path / "ok", embedder=vec, threshold=bad)
    with Gallery.open(tmp_path / "ok", embedder=vec, threshold=0.0) as g:
        assert g.threshold == 0.0


@pytest.mark.parametrize("bad", [0, -1, 2**63, 2**64 + 5])
def test_item_ids_outside_1_to_2_63_are_unknown_items(tmp_path: Path, bad: int) -> None:
    from siamkit.index import UnknownItemError

    with Gallery.create(tmp_path / "g", VectorEmbedder()) as g:
        (item,) = g.enroll_embeddings(np.ones((1, 4), np.float32), "a")
        for call in (g.get, g.similar, g.remove, lambda i: g.remove([item, i])):
            with pytest.raises(UnknownItemError, match="item ids run from 1 to"):
                call(bad)
        assert len(g) == 1
