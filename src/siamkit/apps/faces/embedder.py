"""Face verification with dlib's pretrained ResNet: a frozen encoder for siamkit.

:class:`FaceEmbedder` satisfies :class:`siamkit.run.Embedder`, so the gallery
(enroll / identify / verify), ``siamkit verify`` and the service take it as they take a trained
run. Photos of any size go in; each is read (EXIF orientation applied), its face found by dlib's
frontal face detector (the highest-scoring one when there are several), aligned on 5 landmarks
into a 150x150 chip (``dlib.get_face_chip``) and embedded into 128 numbers. Two photos show the
same person when the euclidean distance between their embeddings is at most the threshold
(0.6, dlib's documented value for this model).

The model's input, as :meth:`FaceEmbedder.embed` and the gallery see it, is the aligned chip
``(N, 3, 150, 150)`` in [0, 1]; :meth:`FaceEmbedder.load` and :meth:`FaceEmbedder.prepare_image`
turn files and decoded uploads into chips. A photo without a face is refused with a
:class:`NoFaceError` (a ValueError) that names it.

Needs the ``faces`` extra: ``pip install 'siamkit[faces]'``.

Example (two photos of one face: scikit-image's astronaut and its mirror image):
    >>> from PIL import Image
    >>> from skimage import data
    >>> photo = Image.fromarray(data.astronaut())
    >>> photo.save("astronaut.jpg")
    >>> photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save("mirrored.jpg")
    >>> emb = FaceEmbedder()
    >>> x = emb.embed_files(["astronaut.jpg", "mirrored.jpg"])  # (2, 128)
    >>> float(emb.pair_distances(x[:1], x[1:])[0]) <= emb.threshold  # same person?
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from siamkit.apps.faces.models import (
    CHIP_PADDING,
    CHIP_SIZE,
    EMBEDDING_DIM,
    load_face_models,
)
from siamkit.apps.faces.run import FaceRunConfig, read_face_run
from siamkit.progress import task
from siamkit.run.decision import DecisionRule, accepts
from siamkit.runtime.distances import pair_distances

if TYPE_CHECKING:
    from PIL.Image import Image

FloatArray = npt.NDArray[np.float32]
RgbArray = npt.NDArray[np.uint8]


class NoFaceError(ValueError):
    """An image in which the detector found no face."""


class FaceEmbedder:
    """dlib's face pipeline (detect, align, embed) as an :class:`~siamkit.run.Embedder`.

    Args:
        config: Threshold, detector upsampling and size, no-face fallback
            (:class:`~siamkit.apps.faces.run.FaceRunConfig`; default: dlib's settings).
        run_dir: The ``siamkit faces init`` folder this came from (a gallery records it, to
            reopen the model later), or None.
        batch_size: Chips per call of the network.

    Attributes:
        fingerprint: Of dlib's weight files and the chip geometry.
        embedding_dim: 128.
        kind: ``"image"``.
        distance: ``"euclidean"``.
        input_shape: ``(3, 150, 150)``: one aligned face chip.
        source: The ``siamkit faces init`` folder it came from (as a string), or ``""``.
        threshold: Same person if distance <= threshold.
        larger_is_closer: False.
        calibration: None (the threshold is dlib's, not calibrated by siamkit).
        fallbacks: Photos aligned on the ``fallback`` box so far (no face detected).

    Raises:
        ImportError: The ``faces`` extra is not installed.
        ValueError: Invalid settings.
    """

    kind = "image"
    distance = "euclidean"
    embedding_dim = EMBEDDING_DIM
    input_shape = (3, CHIP_SIZE, CHIP_SIZE)
    larger_is_closer = False
    calibration = None

    def __init__(
        self,
        config: FaceRunConfig | None = None,
        run_dir: str | Path | None = None,
        batch_size: int = 32,
    ) -> None:
        self.config = (config or FaceRunConfig()).check()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._models = load_face_models()
        self.fingerprint: str = self._models.fingerprint
        self.threshold: float = float(self.config.threshold)
        self.batch_size = batch_size
        self.fallbacks = 0
        self.source: str = "" if run_dir is None else str(run_dir)
        if run_dir is not None:
            self.run_dir = Path(run_dir)

    @classmethod
    def from_run_dir(cls, run_dir: str | Path) -> FaceEmbedder:
        """The embedder a ``siamkit faces init`` folder describes.

        Raises:
            ValueError: Not such a folder, or invalid settings in it.
            ImportError: The ``faces`` extra is not installed.
        """
        return cls(read_face_run(run_dir), run_dir=run_dir)

    # --- photos -> aligned chips ---------------------------------------------------------------

    def align(self, rgb: RgbArray, name: str = "image") -> FloatArray:
        """Detect the face in one photo and align it: ``(H, W, 3)`` uint8 -> ``(3, 150, 150)``.

        Args:
            rgb: The photo, RGB, any size.
            name: What to call it in errors (a file name, ``inputs[0]``).

        Returns:
            The aligned chip, float32 in [0, 1].

        Raises:
            NoFaceError: No face found (and no ``fallback`` configured); names the photo.
        """
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"{name}: expected an (H, W, 3) RGB image, got shape {rgb.shape}")
        m = self._models
        box = self._detect(rgb)
        if box is None:
            box = self._fallback_box(rgb, name)
        with m.lock:
            shape = m.landmarks(rgb, box)
            chip = m.dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        chip = np.asarray(chip, dtype=np.float32) / 255.0  # (150, 150, 3)
        return np.ascontiguousarray(chip.transpose(2, 0, 1))  # (3, 150, 150)

    def _detect(self, rgb: RgbArray) -> Any:
        """The highest-scoring face box in full-image coordinates, or None."""
        from PIL import Image

        m = self._models
        h, w = rgb.shape[:2]
        scale = min(1.0, self.config.detect_side / max(h, w))
        small = rgb
        if scale < 1.0:  # detect on a smaller copy; landmarks and chip use the full image
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
        with m.lock:
            boxes, scores, _ = m.detector.run(small, self.config.upsample, 0.0)
        if len(boxes) == 0:
            return None
        b = boxes[int(np.argmax(scores))]
        return m.dlib.rectangle(
            round(b.left() / scale),
            round(b.top() / scale),
            round(b.right() / scale),
            round(b.bottom() / scale),
        )

    def _fallback_box(self, rgb: RgbArray, name: str) -> Any:
        f = self.config.fallback
        if f is None:
            raise NoFaceError(
                f"no face found in {name}: give a photo with a frontal face at least about "
                f"{40 if self.config.upsample else 80} px wide (or, for photos already cropped "
                "around one face, set a fallback box: `siamkit faces init DIR --fallback 0.5`)"
            )
        self.fallbacks += 1
        h, w = rgb.shape[:2]
        side = f * min(h, w)
        top, left = (h - side) / 2, (w - side) / 2
        return self._models.dlib.rectangle(
            round(left), round(top), round(left + side) - 1, round(top + side) - 1
        )

    def prepare_image(self, image: Image, name: str = "image") -> FloatArray:
        """A decoded PIL image (any size or mode) -> its aligned chip ``(3, 150, 150)``.

        The service calls this on each uploaded image in place of resizing it.

        Raises:
            NoFaceError: No face found; names the input.
        """
        from PIL import ImageOps

        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.uint8)
        return self.align(rgb, name)

    def load(self, sources: Sequence[str | Path]) -> tuple[FloatArray, list[str]]:
        """Read photos (files, or folders searched recursively) and align their faces.

        Returns:
            Chips ``(N, 3, 150, 150)`` in [0, 1] and the file of each.

        Raises:
            ValueError: A missing or unreadable file, or a photo without a face
                (:class:`NoFaceError`), named.
        """
        files = _image_files(sources)
        chips = []
        with task("finding and aligning faces", total=len(files)) as advance:
            for f in files:
                chips.append(self.align(read_rgb(f), str(f)))
                advance(1)
        return np.stack(chips), [str(f) for f in files]

    # --- chips -> embeddings -------------------------------------------------------------------

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> FloatArray:
        """Embed aligned face chips ``(N, 3, 150, 150)`` in [0, 1] -> ``(N, 128)`` float32.

        Raises:
            ValueError: Anything else (photos must go through :meth:`load` first).
        """
        expected = f"(N, {', '.join(map(str, self.input_shape))})"
        if not isinstance(inputs, np.ndarray):
            raise ValueError(
                f"the face model embeds aligned face chips {expected}, not "
                f"{type(inputs).__name__}; read photos with .load() or .embed_files()"
            )
        if inputs.ndim != 4 or tuple(inputs.shape[1:]) != self.input_shape or len(inputs) == 0:
            raise ValueError(
                f"inputs of shape {tuple(inputs.shape)} are not aligned face chips {expected}; "
                "read photos with .load() or .embed_files(), which detect and align the face"
            )
        if inputs.dtype.kind != "f" or not np.isfinite(inputs).all():
            raise ValueError(f"face chips must be finite floats in [0, 1], got {inputs.dtype}")
        chips = np.clip(np.rint(inputs * 255.0), 0, 255).astype(np.uint8)  # (N, 3, 150, 150)
        hwc = [np.ascontiguousarray(c.transpose(1, 2, 0)) for c in chips]  # N x (150, 150, 3)
        m = self._models
        out = []
        with task("embedding", total=len(hwc)) as advance:
            for i in range(0, len(hwc), self.batch_size):
                with m.lock:
                    vectors = m.recognizer.compute_face_descriptor(hwc[i : i + self.batch_size])
                out.append(np.array([np.asarray(v) for v in vectors], dtype=np.float32))
                advance(len(out[-1]))
        return np.concatenate(out)  # (N, 128)

    def embed_files(self, paths: Sequence[str | Path]) -> FloatArray:
        """Read, align and embed photos: ``(N, 128)`` (see :meth:`load`)."""
        return self.embed(self.load(paths)[0])

    def pair_distances(self, a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Euclidean distances ``(B,)`` between rows of two ``(B, 128)`` arrays."""
        return pair_distances(a, b, self.distance)

    def decision_rule(self) -> DecisionRule:
        """The model's own rule: euclidean distance at most the folder's threshold (dlib's 0.6
        unless set), no probability map."""
        return DecisionRule(self.distance, self.threshold, self.larger_is_closer, None, "model")

    def same(self, a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each pair of embeddings is the same person at the threshold."""
        return accepts(self.pair_distances(a, b), self.threshold, self.larger_is_closer)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"FaceEmbedder(dlib resnet v1, D=128, euclidean, threshold={c.threshold}, "
            f"upsample={c.upsample}, fallback={c.fallback})"
        )


def read_rgb(path: str | Path) -> RgbArray:
    """Decode an image file to ``(H, W, 3)`` uint8 RGB, EXIF orientation applied.

    Raises:
        ValueError: Missing or unreadable file, named.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except FileNotFoundError:
        raise ValueError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image {path}: not a readable image file ({e})") from None
    return np.asarray(rgb, dtype=np.uint8)


def _image_files(sources: Sequence[str | Path]) -> list[Path]:
    if not sources:
        raise ValueError("no image files given")
    files: list[Path] = []
    for raw in sources:
        p = Path(raw)
        if p.is_dir():
            from siamkit.data.images import images_under

            files += images_under(p)
        else:
            files.append(p)
    return files
