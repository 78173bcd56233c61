"""A face-encoder "run directory": names dlib's pretrained face model where a run is expected.

``siamkit gallery create --model DIR``, ``siamkit verify DIR A B`` and ``siamkit serve DIR``
take a run directory. A folder holding ``face_encoder.json`` (written by
``siamkit faces init DIR``) stands for the frozen dlib face encoder
(:class:`~siamkit.apps.faces.embedder.FaceEmbedder`) with the settings in that file; nothing is
trained and no weights are copied (they stay in the ``face-recognition-models`` package).

Example:
    >>> write_face_run("runs/faces", FaceRunConfig(threshold=0.6))
    >>> is_face_run("runs/faces")
    True
    >>> read_face_run("runs/faces").threshold
    0.6
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

FACE_RUN_FILE = "face_encoder.json"
FORMAT = "siamkit-face-encoder/1"
DLIB_THRESHOLD = 0.6  # dlib's documented decision distance for this model (same if below)


@dataclass(frozen=True)
class FaceRunConfig:
    """Settings of the face pipeline (what ``face_encoder.json`` holds besides its format).

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
    """Whether ``path`` is a folder holding ``face_encoder.json`` (cheap; imports nothing)."""
    return (Path(path) / FACE_RUN_FILE).is_file()


def write_face_run(run_dir: str | Path, config: FaceRunConfig | None = None) -> Path:
    """Write ``run_dir/face_encoder.json`` (the folder may exist; a trained run is refused).

    Returns:
        The file written.

    Raises:
        ValueError: Invalid settings, or ``run_dir`` already holds a trained siamkit run.
    """
    config = (config or FaceRunConfig()).check()
    run_dir = Path(run_dir)
    if (run_dir / "config.json").is_file():
        raise ValueError(
            f"{run_dir} holds a trained run (config.json); choose a new folder for the face encoder"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / FACE_RUN_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, **asdict(config)}, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def read_face_run(run_dir: str | Path) -> FaceRunConfig:
    """The settings in ``run_dir/face_encoder.json``.

    Raises:
        ValueError: No such file, another format, unknown keys or invalid values.
    """
    path = Path(run_dir) / FACE_RUN_FILE
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
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file; recreate it with `siamkit faces init`")
    record.pop("format")
    known = {f.name for f in fields(FaceRunConfig)}
    unknown = sorted(set(record) - known)
    if unknown:
        raise ValueError(
            f"{path}: unknown keys {', '.join(unknown)}; valid keys: {', '.join(sorted(known))}"
        )
    return FaceRunConfig(**record).check()
