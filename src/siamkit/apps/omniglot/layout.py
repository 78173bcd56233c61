"""Omniglot's published folder layout as a data source: ``--data omniglot:PATH[,SET]``.

The layout (Lake et al. 2015, github.com/brendenlake/omniglot, ``python/images_*.zip``)::

    ROOT/images_background/ALPHABET/CHARACTER/*.png   (30 alphabets, 964 characters)
    ROOT/images_evaluation/ALPHABET/CHARACTER/*.png   (20 alphabets, 659 characters)

One class per character, named ``ALPHABET/CHARACTER``. ``PATH`` is either ``ROOT`` (both sets,
the background classes first, then the evaluation ones) or one set folder itself (any folder
whose subfolders are alphabets, e.g. ``images_background_small1``). ``,background`` or
``,evaluation`` after a ``ROOT`` keeps one set. The source ignores ``split``: the two sets *are*
Omniglot's split, by alphabet, and an alphabet found in both sets is an error.

Pixels are read as they are in the files (Omniglot: black strokes on white, 105x105;
``--image-size 28`` resizes), so ``siamkit verify`` and ``embed`` see the very same inputs.
The glyph data set of :mod:`siamkit.apps.glyphs.dataset` is written in this layout.

Example (a tiny background set: two alphabets, three characters, two blank drawings each):
    >>> from PIL import Image
    >>> from siamkit.data import load_data
    >>> for name in ["Greek/alpha", "Greek/beta", "Runic/fehu"]:
    ...     folder = Path("omniglot/images_background") / name
    ...     folder.mkdir(parents=True)
    ...     for i in (1, 2):
    ...         Image.new("L", (105, 105), 255).save(folder / f"{i}.png")
    >>> data = load_data("omniglot:omniglot,background", SourceOptions(image_size=28))
    >>> data.class_names
    ['Greek/alpha', 'Greek/beta', 'Runic/fehu']
    >>> data.x.shape, data.y.tolist()
    (torch.Size([6, 1, 28, 28]), [0, 0, 1, 1, 2, 2])
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from siamkit.data.images import list_images, load_image
from siamkit.data.labelled import LabelledData
from siamkit.data.sources import SourceOptions, Split

SETS = {"background": "images_background", "evaluation": "images_evaluation"}
SELECTORS = (*SETS, "all")


class OmniglotCharacter(NamedTuple):
    """One character folder.

    Attributes:
        set_name: ``background`` / ``evaluation``, or the folder's name for a bare set folder.
        alphabet: The alphabet (script) folder's name.
        character: The character folder's name.
        files: Its image files, sorted by name.
    """

    set_name: str
    alphabet: str
    character: str
    files: list[Path]

    @property
    def class_name(self) -> str:
        """``ALPHABET/CHARACTER``."""
        return f"{self.alphabet}/{self.character}"


def omniglot_sets(arg: str) -> list[tuple[str, Path]]:
    """The set folders a spec argument ``PATH[,background|evaluation|all]`` names, in order.

    Raises:
        ValueError: The path is missing, holds no set, or the selector does not fit it.
    """
    path, selector = arg, "all"
    head, sep, tail = arg.rpartition(",")
    if sep and tail in SELECTORS:
        path, selector = head, tail
    root = Path(path)
    if not root.is_dir():
        raise ValueError(
            f"Omniglot folder {root} does not exist; pass the folder holding images_background/ "
            "and images_evaluation/ (unzipped), or one of them: --data omniglot:PATH"
        )
    present = [(name, root / folder) for name, folder in SETS.items() if (root / folder).is_dir()]
    if present:
        if selector == "all":
            return present
        chosen = [(n, p) for n, p in present if n == selector]
        if not chosen:
            raise ValueError(f"{root} has no {SETS[selector]}/ folder; found {present[0][1].name}")
        return chosen
    if selector != "all":
        raise ValueError(
            f"',{selector}' selects a set of an Omniglot root, but {root} holds neither "
            "images_background/ nor images_evaluation/; pass the root, or the set folder alone"
        )
    return [(root.name, root)]


def list_characters(sets: list[tuple[str, Path]]) -> list[OmniglotCharacter]:
    """Every character folder of ``sets``: by set, then alphabet, then character name.

    Raises:
        ValueError: An alphabet is in two sets, or a set has no character with images.
    """
    out: list[OmniglotCharacter] = []
    owner: dict[str, str] = {}
    for set_name, folder in sets:
        found = 0
        for alphabet in _subfolders(folder):
            if alphabet.name in owner:
                raise ValueError(
                    f"alphabet '{alphabet.name}' is in both {owner[alphabet.name]} and "
                    f"{set_name}; each alphabet must be in one set only (the split is by alphabet)"
                )
            owner[alphabet.name] = set_name
            for character in _subfolders(alphabet):
                files = list_images(character)
                if files:
                    out.append(OmniglotCharacter(set_name, alphabet.name, character.name, files))
                    found += 1
        if not found:
            raise ValueError(
                f"{folder} holds no ALPHABET/CHARACTER/*.png images (Omniglot's layout); is it "
                "zipped, or one level too high or low?"
            )
    return out


def omniglot(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """Omniglot's layout: one class ``ALPHABET/CHARACTER`` per character folder (see module)."""
    if not arg:
        raise ValueError("omniglot needs a path: --data omniglot:PATH[,background|evaluation]")
    characters = list_characters(omniglot_sets(arg))
    channels = 1 if options.grayscale else 3
    size: tuple[int, int] | None = (
        (options.image_size, options.image_size) if options.image_size else None
    )
    xs, ys, sources = [], [], []
    for label, ch in enumerate(characters):
        for path in ch.files:
            img = load_image(path, channels, size, options.on_mismatch)  # (C, H, W)
            if size is None:
                size = (img.shape[1], img.shape[2])
            xs.append(img)
            ys.append(label)
            sources.append(str(path))
    names = [ch.class_name for ch in characters]
    return LabelledData(torch.stack(xs), torch.tensor(ys), names, "image", sources)


def alphabet_of(class_name: str) -> str:
    """The alphabet of an ``ALPHABET/CHARACTER`` class name.

    Raises:
        ValueError: The name has no ``/`` (not an Omniglot class name).
    """
    alphabet, sep, _ = class_name.partition("/")
    if not sep:
        raise ValueError(f"class '{class_name}' is not an Omniglot class name ALPHABET/CHARACTER")
    return alphabet


def recipe_config(arg: str, val_alphabets: int = 3, seed: int = 0) -> dict[str, object]:
    """Training settings for an Omniglot root: train on background, evaluate on evaluation.

    ``val_alphabets`` background alphabets (drawn with ``seed``) are held out whole for model
    selection, and no other item (``val_fraction: 0``), so the checkpoint is chosen on alphabets
    it never trained on, as the evaluation is. Class lists are index ranges into the source's
    class order (background first).

    Args:
        arg: ``ROOT`` holding both ``images_background`` and ``images_evaluation``.
        val_alphabets: Background alphabets held out for validation (>= 1).
        seed: Draws the validation alphabets.

    Returns:
        ``data``, ``train_classes``, ``val_classes``, ``val_fraction``, ``eval_classes``: keys of
        :class:`~siamkit.training.TrainConfig` (write them to a YAML file for ``--config``).

    Raises:
        ValueError: A set is missing, or too few background alphabets to hold some out.
    """
    sets = omniglot_sets(arg)
    if [n for n, _ in sets] != list(SETS):
        raise ValueError(
            f"{arg} must hold both images_background/ and images_evaluation/ to split training "
            "from evaluation by alphabet"
        )
    characters = list_characters(sets)
    background = [i for i, c in enumerate(characters) if c.set_name == "background"]
    evaluation = [i for i, c in enumerate(characters) if c.set_name == "evaluation"]
    alphabets = sorted({characters[i].alphabet for i in background})
    if not 1 <= val_alphabets < len(alphabets):
        raise ValueError(
            f"val_alphabets must be in 1..{len(alphabets) - 1} (background has {len(alphabets)} "
            f"alphabets), got {val_alphabets}"
        )
    rng = np.random.default_rng(seed)
    held = {alphabets[i] for i in rng.choice(len(alphabets), val_alphabets, replace=False)}
    val = [i for i in background if characters[i].alphabet in held]
    return {
        "data": f"omniglot:{arg}",
        "train_classes": index_ranges(background),
        "val_classes": index_ranges(val),
        "val_fraction": 0.0,
        "eval_classes": index_ranges(evaluation),
        # one-shot scoring and calibration read the validation alphabets: the model must not
        # train on them afterwards, so no refit
        "refit": False,
    }


def index_ranges(indices: list[int]) -> str:
    """Sorted indices as a class spec of ranges: ``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    parts: list[str] = []
    values = sorted(indices)
    start = prev = values[0] if values else 0
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(parts) if values else ""


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
