"""The one-shot table of docs/applications/glyphs.md from runs scored by `siamkit glyphs oneshot`.

Reads ``RUN/oneshot-best.json`` of each run named (``LABEL=RUN`` or ``RUN``) and prints one
Markdown table: a row per protocol and N-way, a column per run and scorer, each cell
``accuracy ± 95% half-width`` in percent.

    python bench/glyphs_oneshot.py ms=runs/glyphs-ms koch=runs/glyphs-koch
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(args: list[str]) -> None:
    """Print the table for the runs in ``args``."""
    if not args:
        raise SystemExit(__doc__)
    columns: dict[str, dict[tuple[str, int], str]] = {}
    for arg in args:
        label, _, path = arg.rpartition("=")
        run = Path(path)
        record = json.loads((run / "oneshot-best.json").read_text())
        for r in record["rows"]:
            name = f"{label or run.name} / {r['scorer']}"
            cell = f"{100 * r['mean']:.1f} ± {100 * r['ci95']:.1f}"
            columns.setdefault(name, {})[(r["protocol"], r["n_way"])] = cell
    keys = sorted(
        {k for col in columns.values() for k in col}, key=lambda k: (k[0] != "within", -k[1])
    )
    print("| episodes | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for protocol, n_way in keys:
        cells = [col.get((protocol, n_way), "") for col in columns.values()]
        print(f"| {n_way}-way 1-shot, {protocol} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
