"""FaceEmbedder on real photos, against dlib called directly; the missing-extra and no-face
errors; the face-encoder folder."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from apps_faces.conftest import NEEDS_FACES

dlib = pytest.importorskip("dlib", reason=NEEDS_FACES)

from siamkit.apps.faces import models as face_models  # noqa: E402
from siamkit.apps.faces.embedder import FaceEmbedder, NoFaceError, read_rgb  # noqa: E402
from siamkit.apps.faces.run import (  # noqa: E402
    FACE_RUN_FILE,
    FaceRunConfig,
    is_face_run,
    read_face_run,
    write_face_run,
)
from siamkit.run import Embedder  # noqa: E402


def _dlib_reference(path: Path) -> np.ndarray:
    """dlib's own pipeline, written out: best detection, 5 landmarks, descriptor of the photo."""
    folder = face_models.models_dir()
    detector = dlib.get_frontal_face_detector()
    landmarks = dlib.shape_predictor(str(folder / face_models.LANDMARKS_FILE))
    net = dlib.face_recognition_model_v1(str(folder / face_models.RECOGNITION_FILE))
    img = read_rgb(path)
    boxes, scores, _ = detector.run(img, 1, 0.0)
    box = boxes[int(np.argmax(scores))]
    return np.array(net.compute_face_descriptor(img, landmarks(img, box)))


def test_embeds_a_real_face_as_dlib_does(face_photos: dict[str, Path]) -> None:
    emb = FaceEmbedder()
    assert isinstance(emb, Embedder)
    x, names = emb.load([face_photos["astronaut"]])
    assert x.shape == (1, 3, 150, 150) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert names == [str(face_photos["astronaut"])]
    v = emb.embed(x)
    assert v.shape == (1, 128) and v.dtype == np.float32
    np.testing.assert_allclose(v[0], _dlib_reference(face_photos["astronaut"]), atol=1e-5)
    assert 0.5 < float(np.linalg.norm(v[0])) < 2.0  # dlib's descriptors are not normalised


def test_same_face_augmented_is_closer_than_another_face(face_photos: dict[str, Path]) -> None:
    emb = FaceEmbedder()
    a, aug, other = emb.embed_files(
        [face_photos["astronaut"], face_photos["astronaut_aug"], face_photos["other"]]
    )
    d_same = float(emb.pair_distances(a[None], aug[None])[0])
    d_other = float(emb.pair_distances(a[None], other[None])[0])
    assert d_same == pytest.approx(float(np.linalg.norm(a - aug)), rel=1e-5)
    assert d_same < d_other
    assert emb.same(a[None], aug[None]).tolist() == [d_same <= emb.threshold]


def test_photo_size_does_not_matter(face_photos: dict[str, Path], tmp_path: Path) -> None:
    """A photo larger than detect_side is detected on a shrunk copy, aligned on the full one."""
    from PIL import Image

    big = tmp_path / "big.png"
    Image.open(face_photos["astronaut"]).resize((1400, 1400)).save(big)
    emb = FaceEmbedder(FaceRunConfig(detect_side=512))
    a, b = emb.embed_files([face_photos["astronaut"], big])
    assert float(np.linalg.norm(a - b)) < 0.2  # resampling only: far below the 0.6 threshold


def test_no_face_is_an_error_naming_the_file(face_photos: dict[str, Path]) -> None:
    emb = FaceEmbedder()
    with pytest.raises(NoFaceError, match=r"no face found in .*coffee\.png"):
        emb.load([face_photos["astronaut"], face_photos["no_face"]])
    assert issubclass(NoFaceError, ValueError)


def test_fallback_box_aligns_a_photo_without_a_detected_face(face_photos: dict[str, Path]) -> None:
    emb = FaceEmbedder(FaceRunConfig(fallback=0.5))
    x, _ = emb.load([face_photos["no_face"]])
    assert x.shape == (1, 3, 150, 150) and emb.fallbacks == 1


def test_embed_takes_aligned_chips_only(face_photos: dict[str, Path]) -> None:
    emb = FaceEmbedder()
    with pytest.raises(ValueError, match=r"aligned face chips \(N, 3, 150, 150\)"):
        emb.embed(np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="not list"):
        emb.embed([str(face_photos["astronaut"])])


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    face_models.load_face_models.cache_clear()
    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` now raises ImportError
    try:
        with pytest.raises(ImportError, match=r"pip install 'siamkit\[faces\]'"):
            FaceEmbedder()
    finally:
        face_models.load_face_models.cache_clear()


def test_missing_models_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(face_models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"siamkit\[faces\]"):
        face_models.models_dir()


def test_modules_import_without_dlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)
    names = [
        "siamkit.apps.faces.models",
        "siamkit.apps.faces.run",
        "siamkit.apps.faces.embedder",
        "siamkit.apps.faces.lfw",
        "siamkit.apps.faces.views",
        "siamkit.apps.faces.cli",
    ]
    for name in names:  # fresh imports; monkeypatch puts the originals back afterwards
        parent, _, child = name.rpartition(".")
        monkeypatch.delattr(importlib.import_module(parent), child, raising=False)
        monkeypatch.delitem(sys.modules, name, raising=False)
    for name in names:
        importlib.import_module(name)


def test_face_run_folder_round_trips_and_rejects_bad_files(tmp_path: Path) -> None:
    run = tmp_path / "faces"
    assert not is_face_run(run)
    write_face_run(run, FaceRunConfig(threshold=0.5, upsample=0, fallback=0.5))
    assert is_face_run(run)
    assert read_face_run(run) == FaceRunConfig(threshold=0.5, upsample=0, fallback=0.5)
    emb = FaceEmbedder.from_run_dir(run)
    assert emb.threshold == 0.5 and emb.run_dir == run
    (run / FACE_RUN_FILE).write_text('{"format": "siamkit-face-encoder/1", "treshold": 1}')
    with pytest.raises(ValueError, match="unknown keys treshold"):
        read_face_run(run)
    with pytest.raises(ValueError, match="upsample must be 0, 1 or 2"):
        FaceRunConfig(upsample=5).check()
    with pytest.raises(ValueError, match="faces init"):
        read_face_run(tmp_path / "elsewhere")
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="holds a trained run"):
        write_face_run(tmp_path / "trained")


def test_a_face_folder_loads_by_its_kind_with_the_whole_protocol(face_run: Path) -> None:
    from siamkit.run import DecisionRule, load_embedder

    emb = load_embedder(face_run)
    assert isinstance(emb, FaceEmbedder) and isinstance(emb, Embedder)
    assert emb.source == str(face_run) and emb.calibration is None
    assert emb.input_shape == (3, 150, 150) and emb.larger_is_closer is False
    assert emb.decision_rule() == DecisionRule("euclidean", 0.6, False, None, "model")
    d = np.array([0.59, 0.6, 0.61])  # float64: 0.6 itself is accepted
    assert emb.decision_rule().same(d).tolist() == [True, True, False]


def test_finding_faces_and_embedding_report_their_counts(face_photos: dict[str, Path]) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from siamkit.progress import reporting

    steps: dict[str, list[int | None]] = {}

    class Recorder:
        @contextmanager
        def task(self, description: str, total: int | None) -> Iterator[object]:
            steps[description] = [total, 0]
            yield lambda n: steps[description].__setitem__(1, (steps[description][1] or 0) + n)

    photos = [face_photos["astronaut"], face_photos["astronaut_aug"], face_photos["other"]]
    with reporting(Recorder()):
        emb = FaceEmbedder().embed_files(photos)
    assert emb.shape == (3, 128)
    assert steps == {"finding and aligning faces": [3, 3], "embedding": [3, 3]}
