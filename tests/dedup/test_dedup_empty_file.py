"""Issue 25: one empty .txt file is skipped with a warning naming it, not the end of a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamkit.dedup import read_corpus


def test_an_empty_text_file_is_skipped_and_named(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("the first essay")
    (tmp_path / "b.txt").write_text("the second essay")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.warns(UserWarning, match=r"empty\.txt is empty; skipped"):
        docs = read_corpus(tmp_path)
    assert [d.id for d in docs] == ["a.txt", "b.txt"]
