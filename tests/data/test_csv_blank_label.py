"""Issue 25: a CSV row with a blank label is refused, naming the row, not made class ''."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamkit.data import load_data


def test_blank_csv_label_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,x\n3,4, \n5,6,y\n")
    with pytest.raises(ValueError, match=r"d\.csv line 3: the label column 'label' is blank"):
        load_data(f"csv:{path}")
