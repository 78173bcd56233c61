"""CEDAR's signature layout: a loader and the data sources ``cedar:DIR`` and ``cedar-hands:DIR``.

CEDAR (Kalera, Srihari and Xu 2004) is published as two folders of PNG files::

    full_org/original_W_S.png     genuine signature S of writer W
    full_forg/forgeries_W_S.png   skilled forgery S of writer W's signature

(55 writers, 24 of each). Other files in the folders (``Thumbs.db``) are ignored. The synthetic
sets of :mod:`siamkit.apps.signatures.dataset` use the same layout and add ``forgers.csv``.

Images are read as verify, embed and the gallery read them (grayscale, bilinear resize, values
in [0, 1]) at 48×128 (height × width, CEDAR's wide aspect) or, with ``--image-size H``, at
``H × round(8H/3)``.

As data sources:

* ``cedar:DIR``: the genuine signatures; one class per writer, named by its number (``1``..).
  Train with ``--train-classes 1-40 --eval-classes 41-55``; forgeries are left out.
* ``cedar-hands:DIR``: the same classes, plus each skilled forgery in the class of the writer
  whose hand wrote it (read from ``DIR/forgers.csv``; CEDAR itself does not say who forged
  what, so this works on the synthetic sets only). The network then sees one name written by
  two hands as a different pair, and two names in one hand as a similar pair.

Example (a tiny synthetic set in CEDAR's layout: 10 writers, 4 genuine signatures and 2
forgeries each; CEDAR itself, ``load_data("cedar:/data/CEDAR")``, gives 1320 images, 55 x 24):
    >>> from siamkit.apps.signatures.dataset import render_signature_set
    >>> from siamkit.data import load_data
    >>> info = render_signature_set(
    ...     "sigs", writers=10, val_writers=4, eval_writers=3, genuine=4, forgeries=2
    ... )
    >>> data = load_data("cedar:sigs")
    >>> data.x.shape, data.class_names[:3]
    (torch.Size([40, 1, 48, 128]), ['1', '2', '3'])
    >>> load_data("cedar-hands:sigs").x.shape  # the forgeries too, in their forgers' classes
    torch.Size([60, 1, 48, 128])
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from siamkit.data.images import load_image
from siamkit.data.labelled import LabelledData
from siamkit.data.sources import SourceOptions, Split

SIZE = (48, 128)  # (H, W) signatures are read at
GENUINE_DIR, FORGED_DIR = "full_org", "full_forg"
_PATTERNS = {
    False: re.compile(r"^original_(\d+)_(\d+)\.png$", re.IGNORECASE),
    True: re.compile(r"^forgeries_(\d+)_(\d+)\.png$", re.IGNORECASE),
}
LAYOUT = (
    "CEDAR's layout is DIR/full_org/original_W_S.png (genuine) and "
    "DIR/full_forg/forgeries_W_S.png (skilled forgeries); `siamkit signatures render` writes "
    "a synthetic set in it"
)


@dataclass(frozen=True)
class CedarFile:
    """One image of the layout: writer ``writer``'s sample ``sample``, genuine or forged."""

    writer: int
    sample: int
    forged: bool
    path: Path


@dataclass
class CedarSet:
    """The images of a CEDAR-layout folder.

    Attributes:
        genuine: ``(G, 1, H, W)`` genuine signatures in [0, 1].
        genuine_writer: ``(G,)`` their writers' numbers.
        forged: ``(F, 1, H, W)`` skilled forgeries.
        forged_writer: ``(F,)`` the number of the writer each forgery imitates.
        forger: ``(F,)`` the writer who wrote each forgery (``forgers.csv``), or None.
        genuine_files, forged_files: The files, in the order of the tensors.
    """

    genuine: Tensor
    genuine_writer: Tensor
    forged: Tensor
    forged_writer: Tensor
    forger: Tensor | None
    genuine_files: list[CedarFile]
    forged_files: list[CedarFile]

    @property
    def writers(self) -> list[int]:
        """The writers with genuine signatures, ascending."""
        return sorted(set(self.genuine_writer.tolist()))


def image_size(options: SourceOptions | None = None) -> tuple[int, int]:
    """``(H, W)``: 48×128, or ``H × round(8H/3)`` with ``options.image_size = H``."""
    if options is None or options.image_size is None:
        return SIZE
    h = options.image_size
    return h, max(1, round(h * SIZE[1] / SIZE[0]))


def scan_cedar(root: str | Path) -> tuple[list[CedarFile], list[CedarFile]]:
    """The genuine and forged files of a CEDAR-layout folder, each sorted by (writer, sample).

    Raises:
        ValueError: The folder or its ``full_org`` files are missing (the layout is explained).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"CEDAR folder {root} does not exist; {LAYOUT}")
    found: dict[bool, list[CedarFile]] = {False: [], True: []}
    for forged, sub in ((False, GENUINE_DIR), (True, FORGED_DIR)):
        folder = root / sub
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            m = _PATTERNS[forged].match(p.name)
            if m and p.is_file():
                found[forged].append(CedarFile(int(m[1]), int(m[2]), forged, p))
        found[forged].sort(key=lambda f: (f.writer, f.sample))
    if not found[False]:
        raise ValueError(
            f"no genuine signatures (full_org/original_W_S.png) under {root}; {LAYOUT}"
        )
    return found[False], found[True]


def read_cedar(root: str | Path, size: tuple[int, int] = SIZE) -> CedarSet:
    """Read every image of a CEDAR-layout folder at ``size`` ``(H, W)``.

    Raises:
        ValueError: Layout problems or unreadable images (named), or a ``forgers.csv`` that
            does not cover the forgeries.
    """
    genuine_files, forged_files = scan_cedar(root)
    forger = _read_forgers(Path(root), forged_files)
    return CedarSet(
        genuine=_stack(genuine_files, size),
        genuine_writer=torch.tensor([f.writer for f in genuine_files]),
        forged=_stack(forged_files, size),
        forged_writer=torch.tensor([f.writer for f in forged_files], dtype=torch.long),
        forger=forger,
        genuine_files=genuine_files,
        forged_files=forged_files,
    )


def _stack(files: list[CedarFile], size: tuple[int, int]) -> Tensor:
    if not files:
        return torch.zeros(0, 1, *size)
    return torch.stack([load_image(f.path, 1, size, "resize") for f in files])  # (N, 1, H, W)


def _read_forgers(root: Path, forged: list[CedarFile]) -> Tensor | None:
    """``(F,)`` forger of each forged file from ``root/forgers.csv`` (None without the file)."""
    path = root / "forgers.csv"
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"file", "forger"} <= set(rows[0]):
        raise ValueError(f"{path} needs the columns file and forger; got {list(rows[0])}")
    by_name = {Path(r["file"]).name: int(r["forger"]) for r in rows}
    missing = [f.path.name for f in forged if f.path.name not in by_name]
    if missing:
        raise ValueError(
            f"{path} names no forger for {len(missing)} forgeries (e.g. {missing[0]}); "
            "re-render the set or delete forgers.csv"
        )
    return torch.tensor([by_name[f.path.name] for f in forged], dtype=torch.long)


def _labelled(
    x: Tensor, writer: Tensor, files: list[CedarFile], writers: list[int]
) -> LabelledData:
    index = {w: i for i, w in enumerate(writers)}
    y = torch.tensor([index[int(w)] for w in writer.tolist()], dtype=torch.long)
    return LabelledData(x, y, [str(w) for w in writers], "image", [str(f.path) for f in files])


def cedar(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """CEDAR-layout genuine signatures; one class per writer (``cedar:DIR``).

    Signatures are scanned ink: they are read with one channel whatever ``--grayscale`` says,
    as Fashion-MNIST is; an encoder that takes RGB (``efficientnet_lite0``) copies the channel.
    """
    if not arg:
        raise ValueError(f"cedar needs a folder: --data cedar:DIR; {LAYOUT}")
    genuine, _ = scan_cedar(arg)
    size = image_size(options)
    x = _stack(genuine, size)
    writer = torch.tensor([f.writer for f in genuine])
    return _labelled(x, writer, genuine, sorted(set(writer.tolist())))


def cedar_hands(arg: str | None, options: SourceOptions, split: Split) -> LabelledData:
    """Genuine signatures and forgeries, each in the class of the hand that wrote it."""
    if not arg:
        raise ValueError(f"cedar-hands needs a folder: --data cedar-hands:DIR; {LAYOUT}")
    data = read_cedar(arg, image_size(options))
    if data.forger is None:
        raise ValueError(
            f"cedar-hands needs {Path(arg) / 'forgers.csv'} (who wrote each forgery), which "
            "only synthetic sets have; use --data cedar:DIR for CEDAR itself"
        )
    writers = data.writers
    unknown = sorted(set(data.forger.tolist()) - set(writers))
    if unknown:
        raise ValueError(f"forgers.csv names writers {unknown[:5]} with no genuine signatures")
    x = torch.cat([data.genuine, data.forged])
    hand = torch.cat([data.genuine_writer, data.forger])
    return _labelled(x, hand, data.genuine_files + data.forged_files, writers)
