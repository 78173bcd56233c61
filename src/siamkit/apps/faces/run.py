"""A face-encoder folder: names dlib's pretrained face model where a run is expected.

``siamkit gallery create --model DIR``, ``siamkit verify DIR A B`` and ``siamkit serve DIR``
take a model folder. ``siamkit faces init DIR`` writes ``DIR/config.json`` with the versioned
header of kind ``face`` (:func:`siamkit.run.format.header`) and the face pipeline's settings,
``{"format": 2, "kind": "face", "face": {"threshold": ..., ...}}``; the folder then stands for
the frozen dlib face encoder (:class:`~siamkit.apps.faces.embedder.FaceEmbedder`) with those
settings, loaded by :func:`siamkit.run.load_embedder` as any model is. Nothing is trained and no
weights are copied (they stay in the ``face-recognition-models`` package). Folders written
before the header (``face_encoder.json``, format ``siamkit-face-encoder/1``) are still read.

Example:
    >>> write_face_run("runs/faces", FaceRunConfig(threshold=0.6))
    PosixPath('runs/faces/config.json')
    >>> is_face_run("runs/faces")
    True
    >>> read_face_run("runs/faces").threshold
    0.6
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from siamkit.run.files import CONFIG, write_json
from siamkit.run.format import FORMAT, header, model_kind

KIND = "face"  # the model kind a face-encoder folder records (siamkit.run.EMBEDDERS)
FACE_RUN_FILE = CONFIG  # where a face-encoder folder records its kind and settings
LEGACY_FACE_RUN_FILE = "face_encoder.json"  # the record of folders written before the header
LEGACY_FORMAT = "siamkit-face-encoder/1"  # that record's format
DLIB_THRESHOLD = 0.6  # dlib's documented decision distance for this model (same if below)


@dataclass(frozen=True)
class FaceRunConfig:
    """Settings of the face pipeline (the ``face`` section of a face-encoder folder's record).

    Attributes:
        threshold: Euclidean distance at or below which two faces are the same person.
        upsample: Times the image is doubled before detection (1 finds faces down to about
            40 px; 0 is faster and needs about 80 px).
        detect_side: Longest image side the detector sees; larger photos are shrunk for
            detection only (landmarks and the face chip use the full image).
        fallback: None: an image without a detected face is an error. A fraction f in (0, 1]:
            use the centred square of side f x the shorter side as the face (for photos
            already cropped around one face, such as LFW's 250x250 images: about 0.5).
    """

    threshold: float = DLIB_THRESHOLD  # same person if distance <= threshold
    upsample: int = 1  # detector upsampling passes
    detect_side: int = 1024  # longest side seen by the detector, px
    fallback: float | None = None  # centred face box when none is detected, or an error

    def check(self) -> FaceRunConfig:
        """Return self if every value is valid.

        Raises:
            ValueError: A value out of range, naming it and the valid range.
        """
        if not self.threshold > 0:
            raise ValueError(f"threshold must be > 0 (a euclidean distance); got {self.threshold}")
        if self.upsample not in (0, 1, 2):
            raise ValueError(f"upsample must be 0, 1 or 2; got {self.upsample}")
        if self.detect_side < 64:
            raise ValueError(f"detect_side must be at least 64 px; got {self.detect_side}")
        if self.fallback is not None and not 0 < self.fallback <= 1:
            raise ValueError(f"fallback must be in (0, 1] or None; got {self.fallback}")
        return self


def is_face_run(path: str | Path) -> bool:
    """Whether ``path`` is a face-encoder folder: its ``config.json`` records kind ``face``, or
    it holds only a ``face_encoder.json`` (reads one small file; imports nothing heavy)."""
    try:
        return model_kind(path) == KIND
    except ValueError:
        return False


def write_face_run(run_dir: str | Path, config: FaceRunConfig | None = None) -> Path:
    """Write ``run_dir/config.json``: the header of kind ``face`` and the settings, atomically.

    The folder may exist; a face-encoder folder is rewritten (an old ``face_encoder.json`` is
    replaced by the new record), any other model is refused.

    Returns:
        The file written.

    Raises:
        ValueError: Invalid settings, or ``run_dir`` already holds a trained siamkit run.
    """
    config = (config or FaceRunConfig()).check()
    run_dir = Path(run_dir)
    if (run_dir / CONFIG).is_file() and not is_face_run(run_dir):
        raise ValueError(
            f"{run_dir} holds a trained run (config.json); choose a new folder for the face encoder"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / FACE_RUN_FILE
    write_json(path, {**header(KIND), KIND: asdict(config)})
    (run_dir / LEGACY_FACE_RUN_FILE).unlink(missing_ok=True)  # one record per folder
    return path


def init_face_folder(run_dir: Path, threshold: float | None = None) -> str:
    """``siamkit init RUN --encoder faces``: write a face-encoder folder with dlib's settings
    (and ``threshold`` when given); returns what was written, for the command to print.

    Raises:
        ValueError: An invalid threshold, or ``run_dir`` holds a trained run.
    """
    config = FaceRunConfig() if threshold is None else FaceRunConfig(threshold=threshold)
    path = write_face_run(run_dir, config.check())
    return f"{path}: dlib's face encoder (128-d, euclidean)"


def read_face_run(run_dir: str | Path) -> FaceRunConfig:
    """The settings of a face-encoder folder (``config.json``, else an old ``face_encoder.json``).

    Raises:
        ValueError: No such file, another format or kind, unknown keys or invalid values.
    """
    run_dir = Path(run_dir)
    path = run_dir / FACE_RUN_FILE
    if not path.is_file():
        path = run_dir / LEGACY_FACE_RUN_FILE
    if not path.is_file():
        raise ValueError(
            f"{run_dir} is not a face-encoder folder (no {FACE_RUN_FILE}); create one with "
            f"`siamkit faces init {run_dir}`"
        )
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path} is not valid JSON ({e}); recreate it with `siamkit faces init`"
        ) from None
    settings = _settings(record, path)
    known = {f.name for f in fields(FaceRunConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(
            f"{path}: unknown keys {', '.join(unknown)}; valid keys: {', '.join(sorted(known))}"
        )
    return FaceRunConfig(**settings).check()


def _settings(record: Any, path: Path) -> dict[str, Any]:
    """The settings in a record: the ``face`` section of a versioned one, or the keys of an old
    ``siamkit-face-encoder/1`` one besides its format."""
    if isinstance(record, dict) and record.get("format") == LEGACY_FORMAT:
        return {k: v for k, v in record.items() if k != "format"}
    if (
        isinstance(record, dict)
        and record.get("format") == FORMAT
        and record.get("kind") == KIND
        and isinstance(record.get(KIND), dict)
    ):
        extra = sorted(set(record) - {"format", "kind", KIND})
        if extra:
            raise ValueError(
                f"{path}: unknown keys {', '.join(extra)}; valid keys: format, kind, {KIND}"
            )
        return dict(record[KIND])
    raise ValueError(
        f"{path} is not a face-encoder record (format {FORMAT}, kind '{KIND}'); recreate it with "
        "`siamkit faces init`"
    )
