"""The HTML report renders for a trained run with every section and image present."""

from __future__ import annotations

import base64
import html
import json
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from siamkit.cli.main import app
from siamkit.evaluation.report import SECTIONS

PNG = b"\x89PNG\r\n\x1a\n"


class _Sections(HTMLParser):
    """Collects, per <section id>, the images (decoded) and the table count."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.images: dict[str, list[bytes]] = {}
        self.tables: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.current = a["id"]
            self.images[self.current or ""] = []
            self.tables[self.current or ""] = 0
        elif tag == "img" and self.current:
            src = a["src"] or ""
            assert src.startswith("data:image/png;base64,"), "images must be embedded"
            self.images[self.current].append(base64.b64decode(src.split(",", 1)[1]))
        elif tag == "table" and self.current:
            self.tables[self.current] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None


def test_report_has_every_section_and_image(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = CliRunner().invoke(
        app,
        ["report", str(trained_run), "--out", str(out), "--pairs", "2000", "--bootstrap", "20",
         "--episodes", "50"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    text = out.read_text()
    parser = _Sections()
    parser.feed(text)
    assert list(parser.images) == list(SECTIONS)
    for section in ("training", "roc-det", "histograms", "projection"):
        assert len(parser.images[section]) == 1, section
    for section, images in parser.images.items():
        assert all(img.startswith(PNG) for img in images), section
    assert parser.tables["metrics"] >= 5  # verification, retrieval, few-shot, classes, distances
    # worst errors of an image model are shown as images: query and its wrong neighbour
    assert parser.tables["errors"] == 1 and len(parser.images["errors"]) >= 2
    assert not (tmp_path / "report.html.tmp").exists()
    # The configuration shown is the run's own.
    saved = json.loads((trained_run / "config.json").read_text())
    assert html.escape(json.dumps(saved["train"]["data"])) in text
    # Every metric also lands in metrics.json.
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert "tar_at_far_0.001" in metrics["evaluation_best"]["verification"]


def test_report_on_bad_run_dir(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and not (tmp_path / "r.html").exists()
