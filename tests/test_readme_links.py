"""The README is also the package's page on PyPI, where relative links break: every link in it
is absolute, and every link into the docs site names a page (and heading) the site is built from.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
LINKS = re.findall(r"\]\(([^)\s]+)\)", README) + re.findall(r'src="([^"]+)"', README)


def _site_url() -> str:
    for line in (ROOT / "mkdocs.yml").read_text().splitlines():
        if line.startswith("site_url:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("mkdocs.yml has no site_url")


def _slug(heading: str) -> str:
    # Python-Markdown's toc slugify, which mkdocs uses for heading ids
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _page_for(url: str) -> tuple[Path, str]:
    path, _, anchor = url.removeprefix(_site_url()).partition("#")
    candidates = [ROOT / "docs" / path]
    if path.endswith("/") or path == "":
        candidates = [ROOT / "docs" / path / "index.md", ROOT / "docs" / (path.rstrip("/") + ".md")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate, anchor
    raise AssertionError(f"{url} names no page under docs/ (tried {candidates})")


def test_the_readme_has_links_and_all_are_absolute() -> None:
    assert len(LINKS) > 20
    relative = [link for link in LINKS if not link.startswith(("https://", "#"))]
    assert relative == []


@pytest.mark.parametrize("url", sorted({u for u in LINKS if u.startswith(_site_url())}))
def test_each_docs_link_names_a_page_and_heading_the_site_has(url: str) -> None:
    page, anchor = _page_for(url)
    if anchor:
        headings = re.findall(r"^#+\s+(.+)$", page.read_text(), flags=re.MULTILINE)
        assert anchor in {_slug(h) for h in headings}, f"{url}: no heading '{anchor}' in {page}"


def test_repository_links_name_files_in_the_repository() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    blob = urls["Repository"] + "/blob/main/"
    files = [link.removeprefix(blob) for link in LINKS if link.startswith(blob)]
    assert files and all((ROOT / f).exists() for f in files), files


def test_the_package_urls_and_the_docs_site_agree() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Documentation"] == _site_url()
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Issues"}


def test_slug_matches_a_hand_worked_heading() -> None:
    assert (
        _slug("Text: WordNet definition → lemma (issue 8)")
        == "text-wordnet-definition-lemma-issue-8"
    )
