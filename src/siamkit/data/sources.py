"""Data sources by name: ``digits``, ``fashion-mnist[:DIR]``, ``image-folder:PATH``, ``csv:PATH``
(and the text sources of :mod:`siamkit.data.text` and :mod:`siamkit.data.wordnet`).

Each source returns a :class:`LabelledData`; images come as ``(N, C, H, W)`` in [0, 1] and
standardisation is done by the model (its statistics are saved in the checkpoint). A source
registers with the kind of items it gives (:func:`register_source`), so choices that depend on
it (the default loss) never name sources. Applications add their own sources from their
plugins (:mod:`siamkit.plugins`), lazily; looking up a name that is not registered loads the
plugins first, so every lookup and every list of names sees them.

Example:
    >>> data = load_data("digits")
    >>> data.x.shape
    torch.Size([1797, 1, 8, 8])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from siamkit.data.idx import read_idx
from siamkit.data.images import OnMismatch, list_images, load_image
from siamkit.data.labelled import LabelledData
from siamkit.data.registry import (
    get_source,
)
from siamkit.readers.inputs import read_csv_rows

Split = Literal["train", "test"]
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


@dataclass
class SourceOptions:
    """Options a source may use; the others ignore them.

    Attributes:
        image_size: Height = width to resize images to (image-folder); None = first image's size.
        grayscale: Load images as 1 channel (True) or RGB (False).
        on_mismatch: ``resize`` images whose size differs, or ``reject`` them with an error.
        label_column: The CSV column holding the label.
        tokenizer: Text sources: ``minilm`` or a Hugging Face model dir whose tokenizer makes
            the token ids (the text encoder's own).
        max_length: Text sources: tokens kept per text.
    """

    image_size: int | None = None
    grayscale: bool = True
    on_mismatch: OnMismatch = "resize"
    label_column: str = "label"
    tokenizer: str = "minilm"
    max_length: int = 128


SourceFn = Callable[[str | None, SourceOptions, Split], LabelledData]


NO_DATA = "none"  # the data of a run made without any (``siamkit init`` without --data)


def load_data(
    spec: str, options: SourceOptions | None = None, split: Split = "train"
) -> LabelledData:
    """Load a data set from a spec ``NAME`` or ``NAME:ARGUMENT``.

    Args:
        spec: e.g. ``digits``, ``fashion-mnist``, ``image-folder:faces/``, ``csv:table.csv``.
        options: Image and CSV options.
        split: ``train`` or ``test`` for sources with standard splits (fashion-mnist); others
            ignore it.
    """
    if spec.strip() == NO_DATA:
        raise ValueError(
            "this run names no data (it was made with `siamkit init` without --data); pass "
            "--data SOURCE (and --classes C) with data of your own"
        )
    name, _, arg = spec.partition(":")
    factory = get_source(name)
    return factory(arg or None, options or SourceOptions(), split)


def digits(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, classes 0-9)."""
    from sklearn.datasets import load_digits

    if arg:
        raise ValueError(f"data source 'digits' takes no argument, got 'digits:{arg}'")
    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    y = torch.from_numpy(d.target.astype(np.int64))
    return LabelledData(x, y, [str(i) for i in range(10)], "image")


def fashion_mnist(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """Fashion-MNIST from its IDX files (``train-*`` or ``t10k-*``, gzip or not) in a directory."""
    folder = Path(arg) if arg else FASHION_MNIST_DIR
    prefix = "train" if split == "train" else "t10k"
    files = {}
    for part, stem in (("images", "idx3-ubyte"), ("labels", "idx1-ubyte")):
        candidates = [folder / f"{prefix}-{part}-{stem}.gz", folder / f"{prefix}-{part}-{stem}"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise ValueError(
                f"Fashion-MNIST file {candidates[0].name} not found in {folder}. Install it with "
                "'apt-get install dataset-fashion-mnist' (Debian/Ubuntu; `make demo` does this), "
                "or download the four *-ubyte.gz files from "
                "https://github.com/zalandoresearch/fashion-mnist and pass "
                "--data fashion-mnist:DIR"
            )
        files[part] = found
    images = read_idx(files["images"])
    labels = read_idx(files["labels"])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"Fashion-MNIST files in {folder} have mismatched shapes")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return LabelledData(x, y, list(FASHION_MNIST_CLASSES), "image")


def image_folder(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """A folder with one subfolder per identity (class), each holding that identity's images."""
    if not arg:
        raise ValueError("image-folder needs a path: --data image-folder:PATH")
    root = Path(arg)
    if not root.is_dir():
        raise ValueError(f"image folder {root} does not exist or is not a directory")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(
            f"image folder {root} must hold one subfolder per identity (at least 2); found "
            f"{len(classes)}"
        )
    channels = 1 if options.grayscale else 3
    size: tuple[int, int] | None = (
        (options.image_size, options.image_size) if options.image_size else None
    )
    xs, ys, sources = [], [], []
    for label, name in enumerate(classes):
        for path in list_images(root / name):
            img = load_image(path, channels, size, options.on_mismatch)
            if size is None:
                size = (img.shape[1], img.shape[2])
            xs.append(img)
            ys.append(label)
            sources.append(str(path))
    if not xs:
        raise ValueError(f"no images found under {root}")
    return LabelledData(torch.stack(xs), torch.tensor(ys), classes, "image", sources)


def csv_table(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """A CSV file with a header: numeric feature columns and one label column."""
    if not arg:
        raise ValueError("csv needs a path: --data csv:PATH")
    path = Path(arg)
    if not path.is_file():
        raise ValueError(f"CSV file {path} not found")
    header, body = read_csv_rows(path)
    if options.label_column not in header:
        raise ValueError(
            f"CSV file {path} has no label column '{options.label_column}'; columns: "
            f"{', '.join(header)}; choose one with --label-column"
        )
    li = header.index(options.label_column)
    feats = [i for i in range(len(header)) if i != li]
    values = np.empty((len(body), len(feats)), dtype=np.float32)
    labels = []
    for r, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path} line {r}: {len(row)} fields, header has {len(header)}")
        for j, i in enumerate(feats):
            try:
                values[r - 2, j] = float(row[i])
            except ValueError:
                raise ValueError(
                    f"{path} line {r}: column '{header[i]}' is not a number: {row[i]!r}"
                ) from None
        if not row[li].strip():
            raise ValueError(
                f"{path} line {r}: the label column '{header[li]}' is blank; give every row a "
                "label, or remove the row"
            )
        labels.append(row[li])
    if not np.isfinite(values).all():
        raise ValueError(f"{path} contains NaN or infinite feature values; clean or impute them")
    classes = sorted(set(labels), key=_natural_key)
    index = {c: i for i, c in enumerate(classes)}
    y = torch.tensor([index[c] for c in labels])
    sources = [f"{path}:{r}" for r in range(2, len(body) + 2)]
    return LabelledData(torch.from_numpy(values), y, classes, "vector", sources)


def _natural_key(s: str) -> tuple[int, float | str]:
    try:
        return (0, float(s))
    except ValueError:
        return (1, s)
