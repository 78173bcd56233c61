"""The offline LFW-layout set built from scikit-image's bundled faces."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from apps_faces.conftest import NEEDS_FACES
from siamkit.apps.faces.lfw import image_path, read_pairs
from siamkit.apps.faces.views import build_face_views

pytest.importorskip("skimage.data", reason=NEEDS_FACES)


def test_builds_lfw_layout_with_person_disjoint_folds(tmp_path: Path) -> None:
    built = build_face_views(tmp_path, people=6, images_per_person=3, folds=3, size=64)
    people = sorted(p.name for p in built.lfw_dir.iterdir())
    assert len(people) == 6 and "Skimage_Astronaut" in people
    for name in people:
        files = sorted(f.name for f in (built.lfw_dir / name).iterdir())
        assert files == [f"{name}_{k:04d}.jpg" for k in (1, 2, 3)]
        with Image.open(built.lfw_dir / name / files[0]) as im:
            assert im.size == (64, 64) and im.mode == "RGB"
    protocol = read_pairs(built.pairs_file)
    assert protocol == built.protocol
    # 2 people per fold: 2 x C(3, 2) = 6 same pairs, 3 x 3 = 9 different: 6 of each
    assert (protocol.folds, protocol.per_fold) == (3, 6)
    fold_people: dict[int, set[str]] = {}
    for p in protocol.pairs:
        assert (p.name_a == p.name_b) == p.same
        assert image_path(built.lfw_dir, p.name_a, p.number_a).is_file()
        assert image_path(built.lfw_dir, p.name_b, p.number_b).is_file()
        fold_people.setdefault(p.fold, set()).update({p.name_a, p.name_b})
    folds = list(fold_people.values())
    assert all(not (a & b) for i, a in enumerate(folds) for b in folds[i + 1 :])
    keys = [(p.name_a, p.number_a, p.name_b, p.number_b) for p in protocol.pairs]
    assert len(set(keys)) == len(keys)  # no pair twice


def test_views_differ_and_builds_repeat(tmp_path: Path) -> None:
    a = build_face_views(tmp_path / "a", people=2, images_per_person=2, folds=1, size=64)
    b = build_face_views(tmp_path / "b", people=2, images_per_person=2, folds=1, size=64)
    name = "Skimage_Astronaut"
    first, second = (image_path(a.lfw_dir, name, k).read_bytes() for k in (1, 2))
    assert first != second
    assert image_path(b.lfw_dir, name, 1).read_bytes() == first


def test_impossible_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="person-disjoint folds"):
        build_face_views(tmp_path / "x", people=4, folds=3)
    with pytest.raises(ValueError, match="people must be between 2 and 101"):
        build_face_views(tmp_path / "y", people=500)
    with pytest.raises(ValueError, match="per_fold must be between 1 and"):
        build_face_views(tmp_path / "z", people=2, images_per_person=2, folds=1, per_fold=9)
