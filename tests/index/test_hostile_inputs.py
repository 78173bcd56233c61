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


def test_labels_are_bounded_and_printable(tmp_path: Path) -> None:
    from siamkit.index.errors import ItemTooLargeError
    from siamkit.index.item_limits import MAX_LABEL_CHARS

    with Gallery.create(tmp_path / "g", VectorEmbedder()) as g:
        one = np.ones((1, 4), np.float32)
        with pytest.raises(ItemTooLargeError, match=f"limited to {MAX_LABEL_CHARS}"):
            g.enroll_embeddings(one, "x" * (MAX_LABEL_CHARS + 1))
        for bad in ("a\nb", "a\x1b[31mb", "tab\there", "nul\x00", "line\u2028sep"):
            with pytest.raises(GalleryError, match="control character"):
                g.enroll_embeddings(one, bad)
            with pytest.raises(GalleryError, match="control character"):
                g.enroll(one, label=bad)
        with pytest.raises(GalleryError, match="control character"):
            g.enroll_embeddings(np.ones((2, 4), np.float32), ["ok", "ba\rd"])
        assert len(g) == 0
        g.enroll_embeddings(one, "x" * MAX_LABEL_CHARS)  # the limit itself is fine
        g.enroll_embeddings(one, "Zoë 🙂 李")  # printable unicode is fine
        assert {lab for lab, _ in g.store.label_counts()} == {"x" * MAX_LABEL_CHARS, "Zoë 🙂 李"}


def test_metadata_is_bounded(tmp_path: Path) -> None:
    from siamkit.index.errors import ItemTooLargeError
    from siamkit.index.item_limits import MAX_METADATA_BYTES

    with Gallery.create(tmp_path / "g", VectorEmbedder()) as g:
        one = np.ones((1, 4), np.float32)
        big = {"blob": "y" * MAX_METADATA_BYTES}
        with pytest.raises(ItemTooLargeError, match=f"limited to {MAX_METADATA_BYTES} bytes"):
            g.enroll_embeddings(one, "a", metadata=big)
        with pytest.raises(ItemTooLargeError, match="limited to"):
            g.enroll(one, label="a", metadata=big)
        with pytest.raises(GalleryError, match="JSON"):
            g.enroll_embeddings(one, "a", metadata={"x": float("nan")})
        assert len(g) == 0
        g.enroll_embeddings(one, "a", metadata={"blob": "y" * (MAX_METADATA_BYTES - 20)})


def test_one_long_label_does_not_inflate_the_saved_index(tmp_path: Path) -> None:
    vec = VectorEmbedder()
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(101, 4)).astype(np.float32)
    labels = [f"p{i}" for i in range(100)] + ["L" * 256]  # the longest label allowed
    with Gallery.create(tmp_path / "g", vec) as g:
        g.enroll_embeddings(emb, labels)
    index_file = tmp_path / "g" / "index-flat.npz"
    size = index_file.stat().st_size
    # 101 * 4 floats of embeddings in FAISS + ids, a few hundred bytes of labels; a padded
    # unicode array alone would be 101 * 256 * 4 = 103 kB
    assert size < 20_000, size
    with Gallery.open(tmp_path / "g", embedder=vec) as g:
        assert g.identify_embeddings(emb[100:], k=1)[0].candidates[0].label == labels[100]
        assert g.identify_embeddings(emb[7:8], k=1)[0].candidates[0].label == "p7"


def test_a_handle_notices_a_reembed_by_another_handle(tmp_path: Path) -> None:
    from siamkit.index import GalleryReembeddedError

    np.save(tmp_path / "x.npy", np.eye(4, dtype=np.float32) * 3)
    Gallery.create(tmp_path / "g", VectorEmbedder()).close()
    with Gallery.open(tmp_path / "g", embedder=VectorEmbedder()) as mine:
        mine.enroll([str(tmp_path / "x.npy")], label="a")
        with Gallery.open(tmp_path / "g", embedder=VectorEmbedder()) as other:
            other.reembed(VectorEmbedder(seed=1))
        with pytest.raises(GalleryReembeddedError, match="re-embedded with model vector-4-1"):
            mine.identify(np.eye(4, dtype=np.float32)[:1])
        with pytest.raises(GalleryReembeddedError, match="re-embedded"):
            mine.require_model("vector-4-None")
        mine.require_model("vector-4-1")


def test_a_file_enrolled_twice_or_under_two_labels_warns(tmp_path: Path) -> None:
    from siamkit.index.gallery_writes import DuplicateEnrollWarning

    np.save(tmp_path / "ann.npy", np.eye(4, dtype=np.float32)[:1])
    ann = str(tmp_path / "ann.npy")
    with Gallery.create(tmp_path / "g", VectorEmbedder()) as g:
        g.enroll([ann], label="ann")
        with pytest.warns(DuplicateEnrollWarning, match="already enrolled as 'ann'"):
            g.enroll([ann], label="ann")
        assert len(g) == 2  # stored again, as asked
        with pytest.warns(DuplicateEnrollWarning, match="under two labels, 'ann'.*'bob'"):
            g.enroll([ann], label="bob")
        with pytest.warns(DuplicateEnrollWarning, match=r"4 input\(s\) enrolled more than once"):
            g.enroll([ann, ann], label="ann")
        assert len(g) == 5
