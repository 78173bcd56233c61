"""Text sources: pairs and labelled files, CSV and JSONL, errors that name the row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from siamkit.data import SourceOptions, load_data
from siamkit.data.text import read_text_pairs
from siamkit.models.text_tokenizer import load_tokenizer
from siamkit.training.batches import length_bucketed


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_text_pairs_csv_and_jsonl_agree(tmp_path: Path) -> None:
    rows = [
        {"text_a": "a cat sat", "text_b": "a cat was sitting", "label": 1},
        {"text_a": "stock prices fell", "text_b": "the market dropped", "label": 0.8},
        {"text_a": "a red car", "text_b": "green tea", "label": 0},
    ]
    jl = _jsonl(tmp_path / "p.jsonl", rows)
    csv = tmp_path / "p.csv"
    csv.write_text(
        "text_a,text_b,label\n"
        + "".join(f'"{r["text_a"]}","{r["text_b"]}",{r["label"]}\n' for r in rows)
    )
    for path in (jl, csv):
        pairs = read_text_pairs(path)
        assert [(p.text_a, p.text_b, p.score) for p in pairs] == [
            (r["text_a"], r["text_b"], float(r["label"]))
            for r in rows  # type: ignore[arg-type]
        ]
        data = load_data(f"text-pairs:{path}", SourceOptions(max_length=16))
        # similar rows (>= 0.5) become classes of their two texts; the unrelated row is left out
        assert data.kind == "text" and data.y.tolist() == [0, 0, 1, 1]
        tok = load_tokenizer("minilm")
        assert tok.decode(data.x[1]) == "a cat was sitting"
        assert data.sources is not None and data.sources[1].endswith(":b")
        # text_a is each pair's anchor (0), text_b its response (1); a subset keeps them
        assert data.roles is not None and data.roles.tolist() == [0, 1, 0, 1]
        assert data.subset([3, 0]).roles.tolist() == [1, 0]  # type: ignore[union-attr]


def test_score_column_and_bad_rows_are_named(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("text_a,text_b,score\nx y,x z,0.9\nu v,u w,0.7\n")
    assert [p.score for p in read_text_pairs(path)] == [0.9, 0.7]
    path.write_text("text_a,text_b,label\nok,fine,1\n,empty,1\n")
    with pytest.raises(ValueError, match=r"s\.csv:3: text_a is empty"):
        read_text_pairs(path)
    path.write_text("text_a,text_b,label\nok,fine,3\n")
    with pytest.raises(ValueError, match="outside \\[0, 1\\]; 1 = similar"):
        read_text_pairs(path)
    jl = _jsonl(tmp_path / "bad.jsonl", [{"text_a": "x", "label": 1}])
    with pytest.raises(ValueError, match="line 1: no text_b"):
        read_text_pairs(jl)
    with pytest.raises(ValueError, match="not found"):
        read_text_pairs(tmp_path / "missing.csv")


def test_text_labelled(labelled_csv: Path, tmp_path: Path) -> None:
    data = load_data(f"text-labelled:{labelled_csv}")
    assert data.class_names == sorted(["weather", "food", "sport", "music", "tech", "travel"])
    assert len(data) == 36 and data.x.dtype == torch.int64
    assert torch.bincount(data.y).tolist() == [6] * 6
    empty = _jsonl(tmp_path / "e.jsonl", [{"text": "ok", "label": "a"}, {"text": "", "label": "b"}])
    with pytest.raises(ValueError, match=r"e\.jsonl:2: text is empty"):
        load_data(f"text-labelled:{empty}")


def test_length_buckets_are_a_permutation_of_like_lengths() -> None:
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 100, (1000,), generator=g)
    order = torch.randperm(1000, generator=g)
    out = length_bucketed(order, lengths, 10, g)
    assert sorted(out.tolist()) == list(range(1000))
    spread = [int(lengths[b].max() - lengths[b].min()) for b in out.split(10)]
    plain = [int(lengths[b].max() - lengths[b].min()) for b in order.split(10)]
    assert sum(spread) < sum(plain) / 5  # batches of like length
