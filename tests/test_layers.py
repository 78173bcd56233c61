"""The layer contract: applications plug in from the top, and nothing below them imports them."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "siamkit"
# uses of the face app that the run package's load_embedder replaces next (then: none)
NOT_YET_MOVED: set[str] = set()
IMPORT = re.compile(
    r"^\s*(from\s+siamkit\.apps\b|import\s+siamkit\.apps\b|from\s+siamkit\s+import\s+apps\b)"
)


def test_nothing_below_the_applications_imports_them() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("apps/") or rel in NOT_YET_MOVED:
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if IMPORT.match(line) or '__import__("siamkit.apps' in line:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
