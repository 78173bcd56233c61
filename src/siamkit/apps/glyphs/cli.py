"""``siamkit glyphs ...``: render the glyph set, write an Omniglot recipe, score one-shot runs.

Registered as the ``glyphs`` command group by :mod:`siamkit.apps.glyphs.plugin`.
The recipe, commands and figures are in ``docs/applications/glyphs.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamkit.cli.options import AsJson, RunDir, err, fail, out

glyphs_app = typer.Typer(
    no_args_is_help=True,
    help="One-shot character recognition: a glyph set from fonts, Omniglot's layout, scoring.",
)


@glyphs_app.command()
def render(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write (Omniglot layout).")],
    size: Annotated[int, typer.Option(help="Image side in pixels.")] = 32,
    instances: Annotated[int, typer.Option(help="Images per character (Omniglot: 20).")] = 20,
    seed: Annotated[int, typer.Option(help="Seeds fonts, distortions and the split.")] = 0,
    min_fonts: Annotated[int, typer.Option(help="Fonts that must draw a character.")] = 2,
    min_chars: Annotated[int, typer.Option(help="Characters a script needs.")] = 20,
    max_chars: Annotated[int, typer.Option(help="Characters kept per script at most.")] = 40,
    eval_fraction: Annotated[float, typer.Option(help="Share of scripts held out.")] = 0.4,
    eval_scripts: Annotated[
        str | None, typer.Option(help="Held-out scripts by name, comma-separated.")
    ] = None,
    val_scripts: Annotated[
        int, typer.Option(help="Background scripts held out for validation (recipe.yaml).")
    ] = 3,
    scripts: Annotated[
        str | None, typer.Option(help="Only these scripts, comma-separated (default: all).")
    ] = None,
    fonts: Annotated[
        list[Path] | None,
        typer.Option("--fonts", help="Font folder (repeatable; default /usr/share/fonts)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out.")] = False,
) -> None:
    """Render one class per letter of each script from the installed fonts (see the docs)."""
    from siamkit.apps.glyphs.dataset import GlyphSetConfig, render_glyph_set

    try:
        config = GlyphSetConfig(
            size=size,
            instances=instances,
            seed=seed,
            min_fonts=min_fonts,
            min_chars=min_chars,
            max_chars=max_chars,
            eval_fraction=eval_fraction,
            eval_scripts=_names(eval_scripts),
            val_scripts=val_scripts,
            scripts=_names(scripts),
            font_dirs=tuple(str(f) for f in fonts) if fonts else None,
        )
        manifest = render_glyph_set(config, out_dir, overwrite, lambda m: err.print(m))
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
    n = manifest["num_classes"]
    err.print(
        f"wrote {n['background']} background characters ({len(manifest['background'])} scripts) "
        f"and {n['evaluation']} evaluation characters ({len(manifest['evaluation'])} scripts) "
        f"to {out_dir}; train with: siamkit train --config {out_dir / 'recipe.yaml'} ..."
    )


@glyphs_app.command()
def recipe(
    root: Annotated[
        str, typer.Argument(help="Folder holding images_background/ and images_evaluation/.")
    ],
    out_path: Annotated[Path, typer.Option("--out", help="The YAML file to write.")] = Path(
        "recipe.yaml"
    ),
    val_alphabets: Annotated[
        int, typer.Option(help="Background alphabets held out for validation.")
    ] = 3,
    seed: Annotated[int, typer.Option(help="Draws the validation alphabets.")] = 0,
    image_size: Annotated[
        int | None, typer.Option(help="Resize images to this side (Omniglot: 105 -> 28).")
    ] = None,
) -> None:
    """Write training settings for an Omniglot-layout root (e.g. the real Omniglot)."""
    from siamkit.apps.omniglot.layout import recipe_config

    try:
        settings = recipe_config(root, val_alphabets, seed)
    except ValueError as e:
        raise fail(str(e)) from None
    if image_size is not None:
        settings["image_size"] = image_size
    out_path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items()))
    err.print(f"wrote {out_path}; train with: siamkit train --config {out_path} ...")


@glyphs_app.command()
def oneshot(
    run_dir: RunDir,
    data: Annotated[str | None, typer.Option(help="Data source; default: the run's.")] = None,
    classes: Annotated[
        str | None, typer.Option(help="Classes to score; default: the run's --eval-classes.")
    ] = None,
    ways: Annotated[str, typer.Option(help="N of the N-way episodes, comma-separated.")] = "20,5",
    episodes: Annotated[int, typer.Option(help="Episodes per row.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the episodes.")] = 0,
    checkpoint: Annotated[str, typer.Option(help="best | last")] = "best",
    as_json: AsJson = False,
) -> None:
    """N-way one-shot accuracy on held-out alphabets (within one and across), with the run's
    distance and, for --loss koch runs, the learned head; writes RUN/oneshot-CHECKPOINT.json."""
    from siamkit.apps.omniglot.run import evaluate_one_shot

    try:
        n_ways = tuple(int(w) for w in ways.split(","))
        record = evaluate_one_shot(
            run_dir, data, classes, checkpoint, n_ways, episodes, seed=seed
        )  # fmt: skip
    except ValueError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(record))
        return
    table = Table(title=f"one-shot, {record['classes']} classes ({run_dir})")
    for col in ("protocol", "N-way", "scorer", "accuracy", "95% ±"):
        table.add_column(col)
    for r in record["rows"]:
        table.add_row(
            r["protocol"], str(r["n_way"]), r["scorer"], f"{r['mean']:.3f}", f"{r['ci95']:.3f}"
        )
    out.print(table)
    if record["seen_in_training"]:
        err.print(f"[yellow]warning:[/] classes {record['seen_in_training']} were trained on")


def _names(value: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None
