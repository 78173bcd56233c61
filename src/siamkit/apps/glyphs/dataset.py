"""A one-shot glyph data set rendered from installed fonts, written in Omniglot's layout.

One class per letter of a script (:mod:`siamkit.apps.glyphs.scripts`); its instances are the
letter drawn by the fonts that really have it (font ``cmap``, then no blank and no ``.notdef``
rendering), each with its own small random distortion (:mod:`siamkit.apps.glyphs.render`).
A class gets exactly ``instances`` images, as Omniglot's 20 drawers: ``instances`` fonts drawn
without replacement when enough fonts have the letter, else every font in turn, so that a font
appears several times, each time distorted differently. Letters whose undistorted renderings
match another letter of the same script in a shared font (``l`` and ``I`` in a sans font) are
dropped, and so are scripts left with fewer than ``min_chars`` letters.

Scripts are split whole into background (training) and evaluation scripts, as Omniglot's
alphabets, and written as ``OUT/images_background/SCRIPT/UXXXX/UXXXX_NN.png`` and
``OUT/images_evaluation/...`` with a manifest (``OUT/glyphs.json``: settings, fonts, scripts,
letters and the fonts of each) and ``OUT/recipe.yaml``, the training settings of
:func:`siamkit.apps.omniglot.layout.recipe_config` (validation on whole background scripts).

The output is a function of the settings and the installed fonts only (deterministic).

Example (a tiny set: four scripts of five letters, four images each, from the DejaVu fonts;
the defaults, ``GlyphSetConfig(size=32, seed=0)``, render 1107 background and 718 evaluation
classes with Debian 12's fonts-noto-core and a few other fonts):
    >>> config = GlyphSetConfig(
    ...     size=16,
    ...     instances=4,
    ...     scripts=("Greek", "Cyrillic", "Armenian", "Latin"),
    ...     min_chars=5,
    ...     max_chars=5,
    ...     val_scripts=1,
    ...     font_dirs=("/usr/share/fonts/truetype/dejavu",),
    ... )
    >>> manifest = render_glyph_set(config, "data/glyphs")
    >>> manifest["num_classes"]
    {'background': 10, 'evaluation': 10}
    >>> manifest["background"], manifest["evaluation"]  # scripts, split whole
    (['Cyrillic', 'Latin'], ['Armenian', 'Greek'])
    >>> print(open("data/glyphs/recipe.yaml").read().strip())  # siamkit train --config
    data: "omniglot:data/glyphs"
    train_classes: "0-9"
    val_classes: "5-9"
    val_fraction: 0.0
    eval_classes: "10-19"
    refit: false
    >>> sorted(p.name for p in Path("data/glyphs").iterdir())
    ['glyphs.json', 'images_background', 'images_evaluation', 'recipe.yaml']
    >>> [c["char"] for c in manifest["scripts"]["Greek"]]  # spread over the script's code points
    ['Ͱ', 'Ξ', 'ν', 'ϡ', 'Ͽ']
    >>> sorted(p.name for p in Path("data/glyphs/images_evaluation/Greek/U039E").iterdir())
    ['U039E_01.png', 'U039E_02.png', 'U039E_03.png', 'U039E_04.png']
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from siamkit.apps.glyphs.render import (
    DistortionRanges,
    is_drawn,
    load_font,
    notdef_image,
    render_glyph,
)
from siamkit.apps.glyphs.scripts import SCRIPTS, find_fonts, font_cmap, script_letters

DUPLICATE_TOLERANCE = 0.02  # mean |difference| in [0, 1] under which two letters look the same


@dataclass(frozen=True)
class GlyphSetConfig:
    """Settings of a rendered glyph set.

    Attributes:
        size: Image side in pixels.
        instances: Images per class (Omniglot: 20).
        seed: Seeds font choice, distortions and the script split.
        min_fonts: Fonts that must draw a letter for it to be a class.
        min_chars: Letters a script needs to be kept (20 allows 20-way episodes in a script).
        max_chars: Letters kept per script at most, spread evenly over its code points.
        eval_fraction: Share of the kept scripts that become evaluation scripts.
        eval_scripts: Evaluation scripts by name instead (None: drawn with ``seed``).
        val_scripts: Background scripts held out for validation in ``recipe.yaml``.
        scripts: Scripts to consider (None: every script of ``SCRIPTS``).
        font_dirs: Folders searched for fonts (None: ``/usr/share/fonts``).
        distortions: Ranges of the random distortions.
    """

    size: int = 32
    instances: int = 20
    seed: int = 0
    min_fonts: int = 2
    min_chars: int = 20
    max_chars: int = 40
    eval_fraction: float = 0.4
    eval_scripts: tuple[str, ...] | None = None
    val_scripts: int = 3
    scripts: tuple[str, ...] | None = None
    font_dirs: tuple[str, ...] | None = None
    distortions: DistortionRanges = field(default_factory=DistortionRanges)

    def __post_init__(self) -> None:
        if self.size < 8 or self.instances < 2 or self.min_fonts < 1:
            raise ValueError(
                f"need size >= 8, instances >= 2 and min_fonts >= 1; got size={self.size}, "
                f"instances={self.instances}, min_fonts={self.min_fonts}"
            )
        if not 2 <= self.min_chars <= self.max_chars:
            raise ValueError(
                f"need 2 <= min_chars <= max_chars; got {self.min_chars} and {self.max_chars}"
            )
        if not 0.0 < self.eval_fraction < 1.0:
            raise ValueError(f"eval_fraction must be in (0, 1), got {self.eval_fraction}")
        if self.val_scripts < 1:
            raise ValueError(f"val_scripts must be at least 1, got {self.val_scripts}")
        for name in (*(self.scripts or ()), *(self.eval_scripts or ())):
            if name not in SCRIPTS:
                raise ValueError(
                    f"unknown script '{name}'; choose from: {', '.join(sorted(SCRIPTS))}"
                )


class GlyphClass(NamedTuple):
    """One class: a letter and the fonts that draw it (sorted paths)."""

    script: str
    char: str
    fonts: tuple[Path, ...]

    @property
    def folder(self) -> str:
        """The character folder's name, ``U`` + the code point in hex (``U0041``)."""
        return f"U{ord(self.char):04X}"


def plan_glyph_set(config: GlyphSetConfig, fonts: Sequence[Path]) -> dict[str, list[GlyphClass]]:
    """The classes of each kept script (script -> letters in code point order).

    Args:
        config: The settings.
        fonts: Candidate font files.
    """
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # noisy about harmless font quirks
    cmaps = {f: font_cmap(f) for f in fonts}
    tofu: dict[Path, np.ndarray] = {}  # each font's .notdef rendering
    plan: dict[str, list[GlyphClass]] = {}
    for script in config.scripts or tuple(sorted(SCRIPTS)):
        covering = {ch: [f for f in fonts if ord(ch) in cmaps[f]] for ch in script_letters(script)}
        candidates = [ch for ch, fs in covering.items() if len(fs) >= config.min_fonts]
        if len(candidates) < config.min_chars:
            continue
        kept: list[GlyphClass] = []
        bases: dict[str, dict[Path, np.ndarray]] = {}
        for ch in _spread(candidates, config.max_chars):
            drawn = {}
            for f in covering[ch]:
                font = load_font(f, config.size)
                if f not in tofu:
                    tofu[f] = notdef_image(font, config.size)
                image = render_glyph(font, ch, config.size)
                if is_drawn(image, tofu[f]):
                    drawn[f] = image
            if len(drawn) < config.min_fonts or _duplicate(drawn, bases.values()):
                continue
            bases[ch] = drawn
            kept.append(GlyphClass(script, ch, tuple(sorted(drawn))))
            if len(kept) == config.max_chars:
                break
        if len(kept) >= config.min_chars:
            plan[script] = sorted(kept, key=lambda c: ord(c.char))
    return plan


def split_scripts(scripts: Sequence[str], config: GlyphSetConfig) -> tuple[list[str], list[str]]:
    """(background, evaluation) scripts, each sorted: named ones, or a seeded draw.

    Raises:
        ValueError: A named evaluation script was not kept, or fewer than 2 background
            scripts or no evaluation script would be left.
    """
    names = sorted(scripts)
    if config.eval_scripts is not None:
        missing = sorted(set(config.eval_scripts) - set(names))
        if missing:
            raise ValueError(
                f"evaluation scripts {missing} have too few letters in the installed fonts; "
                f"kept scripts: {', '.join(names)}"
            )
        evaluation = sorted(set(config.eval_scripts))
    else:
        n_eval = round(config.eval_fraction * len(names))
        order = np.random.default_rng(config.seed).permutation(len(names))
        evaluation = sorted(names[i] for i in order[:n_eval])
    background = [s for s in names if s not in evaluation]
    # the background side trains on some scripts and holds at least one out for validation
    if len(background) < 2 or not evaluation:
        raise ValueError(
            f"{len(names)} scripts kept ({', '.join(names)}), {len(background)} of them for "
            f"training and {len(evaluation)} for evaluation: need at least 2 to train on (one "
            "is held out for validation) and 1 to evaluate on; install fonts-noto-core, lower "
            "min_fonts / min_chars, or name fewer --eval-scripts"
        )
    return background, evaluation


def render_glyph_set(
    config: GlyphSetConfig,
    out: str | Path,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Render the set into ``out`` (Omniglot's layout, see module) and return the manifest.

    Written into ``OUT.tmp`` and renamed, so ``out`` is never half-written.

    Raises:
        ValueError: ``out`` exists (without ``overwrite``), no fonts, or too few scripts.
    """
    from siamkit.apps.omniglot.layout import SETS, recipe_config

    out = Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"{out} exists; pass --overwrite to replace it, or choose another --out")
    fonts = find_fonts(config.font_dirs)
    if not fonts:
        raise ValueError(
            "no .ttf/.otf fonts found; install some (apt-get install fonts-noto-core) or pass "
            "font folders"
        )
    plan = plan_glyph_set(config, fonts)
    background, evaluation = split_scripts(list(plan), config)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    sides = {"background": background, "evaluation": evaluation}
    scripts_doc: dict[str, Any] = {}
    for side, names in sides.items():
        for script in names:
            if progress:
                progress(f"{side}: {script} ({len(plan[script])} letters)")
            for cls in plan[script]:
                _write_class(cls, config, tmp / SETS[side] / script / cls.folder)
            scripts_doc[script] = [
                {"folder": c.folder, "char": c.char, "fonts": [f.name for f in c.fonts]}
                for c in plan[script]
            ]
    settings = asdict(config)
    settings["font_dirs"] = list(config.font_dirs) if config.font_dirs else None
    manifest: dict[str, Any] = {
        "settings": settings,
        "fonts": [str(f) for f in fonts],
        "background": background,
        "evaluation": evaluation,
        "num_classes": {s: sum(len(plan[n]) for n in names) for s, names in sides.items()},
        "scripts": scripts_doc,
    }
    (tmp / "glyphs.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    recipe = recipe_config(str(tmp), min(config.val_scripts, len(background) - 1), config.seed)
    recipe["data"] = f"omniglot:{out}"
    (tmp / "recipe.yaml").write_text("".join(f"{k}: {_yaml(v)}\n" for k, v in recipe.items()))
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return manifest


def _write_class(cls: GlyphClass, config: GlyphSetConfig, folder: Path) -> None:
    """``instances`` distorted renderings of one letter, fonts assigned as in the module."""
    rng = np.random.default_rng([config.seed, ord(cls.char)])
    n_fonts = len(cls.fonts)
    if n_fonts >= config.instances:
        picks = sorted(rng.choice(n_fonts, config.instances, replace=False).tolist())
    else:
        picks = [i % n_fonts for i in range(config.instances)]
    folder.mkdir(parents=True, exist_ok=True)
    for j, i in enumerate(picks, start=1):
        font = load_font(cls.fonts[i], config.size)
        image = render_glyph(font, cls.char, config.size, config.distortions.sample(rng))
        Image.fromarray(image).save(folder / f"{cls.folder}_{j:02d}.png")


def _spread(items: list[str], first: int) -> list[str]:
    """``items`` reordered: ``first`` of them evenly spaced, then the others in order."""
    if len(items) <= first:
        return items
    picked = sorted(set(np.linspace(0, len(items) - 1, first).round().astype(int).tolist()))
    rest = [i for i in range(len(items)) if i not in set(picked)]
    return [items[i] for i in picked + rest]


def _duplicate(drawn: dict[Path, np.ndarray], others: Iterable[dict[Path, np.ndarray]]) -> bool:
    """Whether a letter looks like a kept one in a font both are drawn with."""
    for other in others:
        for f, image in drawn.items():
            if f in other:
                diff = np.abs(image.astype(np.float64) - other[f].astype(np.float64)).mean()
                if diff / 255.0 < DUPLICATE_TOLERANCE:
                    return True
    return False


def _yaml(value: object) -> str:
    return json.dumps(value)  # JSON scalars are valid YAML (quoted strings keep "0-4" a string)
