"""A face-encoder folder records its kind in config.json; old face_encoder.json folders still read
(no dlib needed: only the folder's record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siamkit.apps.faces.run import (
    LEGACY_FACE_RUN_FILE,
    FaceRunConfig,
    is_face_run,
    read_face_run,
    write_face_run,
)
from siamkit.run.format import model_kind


def test_init_writes_the_versioned_header_of_kind_face(tmp_path: Path) -> None:
    path = write_face_run(tmp_path / "faces", FaceRunConfig(threshold=0.5, fallback=0.5))
    assert path == tmp_path / "faces" / "config.json"
    assert json.loads(path.read_text()) == {
        "format": 2,
        "kind": "face",
        "face": {"threshold": 0.5, "upsample": 1, "detect_side": 1024, "fallback": 0.5},
    }
    assert model_kind(tmp_path / "faces") == "face" and is_face_run(tmp_path / "faces")
    assert not list((tmp_path / "faces").glob("*.tmp"))  # written atomically


def test_an_old_folder_is_read_and_rewritten_with_the_header(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    record = {"format": "siamkit-face-encoder/1", "threshold": 0.55, "upsample": 0}
    (old / LEGACY_FACE_RUN_FILE).write_text(json.dumps(record))
    assert is_face_run(old) and model_kind(old) == "face"
    assert read_face_run(old) == FaceRunConfig(threshold=0.55, upsample=0)
    write_face_run(old, FaceRunConfig(threshold=0.45))
    assert not (old / LEGACY_FACE_RUN_FILE).exists()
    assert read_face_run(old) == FaceRunConfig(threshold=0.45)


def test_another_model_is_neither_read_nor_overwritten(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"format": 2, "kind": "torch", "train": {}}))
    assert not is_face_run(run)
    with pytest.raises(ValueError, match="holds a trained run"):
        write_face_run(run)
    with pytest.raises(ValueError, match="not a face-encoder record"):
        read_face_run(run)
    assert not is_face_run(tmp_path / "missing")


def test_unknown_keys_in_the_face_section_are_named(tmp_path: Path) -> None:
    run = tmp_path / "faces"
    write_face_run(run)
    record = json.loads((run / "config.json").read_text())
    record["face"]["treshold"] = 1
    (run / "config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="unknown keys treshold"):
        read_face_run(run)
