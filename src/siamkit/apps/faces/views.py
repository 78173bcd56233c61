"""An offline stand-in for LFW: real face photos, augmented, written in LFW's layout.

No face data set can be downloaded here, so this builds a small folder in LFW's published
layout (``lfw/NAME/NAME_0001.jpg`` and a ``pairs.txt``) from the real face images that
scikit-image bundles in its wheel: ``skimage.data.astronaut()`` (one 512x512 portrait) and
the 100 face crops of ``skimage.data.lfw_subset()`` (25x25 grayscale crops from LFW itself,
upscaled here). Each source photo is one "person"; that person's images are random
augmentations of it (resized crop, horizontal flip, small rotation, brightness and contrast,
see :class:`siamkit.data.augment.Augment`).

What it measures, honestly: whether the encoder maps augmented views of one photo closer than
photos of different faces. It is far easier than LFW's same-person pairs (different photos,
years apart) and says nothing about LFW accuracy; the 100 crops are unlabelled, so two of them
may show the same person and count as "different".

Folds are person-disjoint, as LFW's are: people are dealt to folds in turn, and each fold's
pairs use only its own people.

Example:
    >>> views = build_face_views("data/face-views", people=8, images_per_person=3, folds=2)
    >>> views.pairs_file
    PosixPath('data/face-views/pairs.txt')
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from siamkit.apps.faces.lfw import LfwPair, LfwProtocol, image_path, write_pairs
from siamkit.data.augment import Augment

ASTRONAUT = "Skimage_Astronaut"
ASTRONAUT_BOX = (0, 95, 250, 345)  # (top, left, bottom, right): the face and hair, square
LFW_SUBSET_FACES = 100  # lfw_subset(): the first 100 of its 200 images are faces


@dataclass(frozen=True)
class FaceViews:
    """A built folder.

    Attributes:
        lfw_dir: The folder with one subfolder per person (LFW's ``lfw/``).
        pairs_file: Its ``pairs.txt``.
        people: The person names, in fold order.
        protocol: The pairs written.
    """

    lfw_dir: Path
    pairs_file: Path
    people: list[str]
    protocol: LfwProtocol


def source_faces(size: int = 250) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    """The real faces scikit-image bundles, as ``(name, (size, size, 3) uint8)``.

    Raises:
        ImportError: scikit-image is not installed (the ``faces`` extra).
    """
    from PIL import Image

    try:
        import skimage.data
    except ImportError:
        raise ImportError(
            "the offline face set needs scikit-image's bundled photos: pip install "
            "'siamkit[faces]' (or pip install scikit-image)"
        ) from None
    top, left, bottom, right = ASTRONAUT_BOX
    astronaut = skimage.data.astronaut()[top:bottom, left:right]  # (250, 250, 3)
    faces = [(ASTRONAUT, astronaut)]
    crops = skimage.data.lfw_subset()[:LFW_SUBSET_FACES]  # (100, 25, 25) float in [0, 1]
    for i, crop in enumerate(crops):
        faces.append((f"Skimage_Lfw_Face_{i:03d}", (crop * 255).round().astype(np.uint8)))
    out = []
    for name, img in faces:
        pil = Image.fromarray(img).convert("RGB")
        out.append((name, np.asarray(pil.resize((size, size), Image.Resampling.BICUBIC))))
    return out


def build_face_views(
    out_dir: str | Path,
    people: int = 101,
    images_per_person: int = 4,
    folds: int = 10,
    per_fold: int | None = None,
    size: int = 250,
    seed: int = 0,
) -> FaceViews:
    """Write augmented views of scikit-image's faces in LFW's layout, with a ``pairs.txt``.

    Args:
        out_dir: Where to write ``lfw/`` and ``pairs.txt`` (``lfw/`` must not exist yet).
        people: Source photos to use (the astronaut first, then lfw_subset's crops; at most 101).
        images_per_person: Augmented views of each (at least 2).
        folds: Person-disjoint folds (each needs at least 2 people).
        per_fold: Same-person and different-person pairs per fold; default: as many same-person
            pairs as the smallest fold allows (each pair of a person's views once).
        size: Side of the written images, px (LFW's are 250).
        seed: Seed of the augmentations and the pair draws.

    Raises:
        ValueError: Impossible counts, or an existing ``out_dir/lfw``.
    """
    import torch
    from PIL import Image

    sources = source_faces(size)
    if not 2 <= people <= len(sources):
        raise ValueError(f"people must be between 2 and {len(sources)}; got {people}")
    if images_per_person < 2:
        raise ValueError(f"images_per_person must be at least 2; got {images_per_person}")
    if folds < 1 or people < 2 * folds:
        raise ValueError(
            f"{people} people cannot fill {folds} person-disjoint folds of at least 2 people; "
            "use fewer folds or more people"
        )
    out = Path(out_dir)
    lfw_dir = out / "lfw"
    if lfw_dir.exists():
        raise ValueError(f"{lfw_dir} already exists; choose a new --out folder")
    aug = Augment(
        rotate_degrees=10.0,
        scale=(0.75, 1.0),
        brightness=0.25,
        contrast=0.2,
        noise=0.01,
        padding_mode="border",
    )
    names = [name for name, _ in sources[:people]]
    protocol = _pairs(names, images_per_person, folds, per_fold, random.Random(seed))  # checks
    g = torch.Generator().manual_seed(seed)
    for name, rgb in sources[:people]:
        base = torch.tensor(rgb).permute(2, 0, 1).float().div(255.0)  # (3, S, S)
        views = aug(base.expand(images_per_person, -1, -1, -1).contiguous(), g)  # (V, 3, S, S)
        (lfw_dir / name).mkdir(parents=True)
        for k, view in enumerate(views, start=1):
            arr = view.mul(255.0).round().byte().permute(1, 2, 0).numpy()  # (S, S, 3)
            Image.fromarray(arr).save(image_path(lfw_dir, name, k), quality=95)
    pairs_file = write_pairs(out / "pairs.txt", protocol)
    order = [n for f in range(folds) for n in names[f::folds]]
    return FaceViews(lfw_dir, pairs_file, order, protocol)


def _pairs(
    names: list[str], views: int, folds: int, per_fold: int | None, rng: random.Random
) -> LfwProtocol:
    """Person-disjoint folds of same-person and different-person pairs, drawn without repeats."""
    groups = [names[f::folds] for f in range(folds)]  # people dealt to folds in turn
    idx = range(1, views + 1)
    same_all = [
        [(n, i, n, j) for n in g for i, j in itertools.combinations(idx, 2)] for g in groups
    ]
    diff_all = [
        [(a, i, b, j) for a, b in itertools.combinations(g, 2) for i in idx for j in idx]
        for g in groups
    ]
    most = min(min(len(s) for s in same_all), min(len(d) for d in diff_all))
    n = most if per_fold is None else per_fold
    if not 1 <= n <= most:
        raise ValueError(
            f"per_fold must be between 1 and {most} (the smallest fold's distinct pairs); got {n}"
        )
    pairs = []
    for f, (same, diff) in enumerate(zip(same_all, diff_all, strict=True)):
        for a, i, b, j in rng.sample(same, n):
            pairs.append(LfwPair(a, i, b, j, True, f))
        for a, i, b, j in rng.sample(diff, n):
            pairs.append(LfwPair(a, i, b, j, False, f))
    return LfwProtocol(folds, n, pairs)
