"""A smoke run of the WordNet text benchmark on a tiny WordNet-format file, and its metrics
against hand-worked values, so the script cannot rot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["river", "music", "bread", "engine", "winter", "doctor", "garden", "market", "ocean",
          "school", "castle", "forest", "planet", "letter", "bridge", "kitchen", "island",
          "train", "storm", "library"]  # fmt: skip


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "text_wordnet", ROOT / "bench" / "text_wordnet.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tiny_wordnet(folder: Path) -> None:
    """80 synsets (20 topics × 4 senses) in WordNet's data-file format."""
    lines = []
    for i, (topic, k) in enumerate((t, k) for t in TOPICS for k in range(4)):
        lines.append(
            f"{i + 1:08d} 03 n 02 {topic}{k} 0 {topic}_kind{k} 0 000 | something that has to "
            f"do with a {topic} of the {['first', 'second', 'third', 'fourth'][k]} kind  "
        )
    (folder / "data.noun").write_text("\n".join(lines) + "\n")


def test_retrieval_metrics_by_hand() -> None:
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8], [0.1, 0.9, 0.0]])
    # query 0: relevant {0} ranked 1; query 1: relevant {0} ranked 3; query 2: {0, 2} -> rank 2
    m = _bench().retrieval_metrics(scores, [{0}, {0}, {0, 2}], k=2)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert m["r@1"] == pytest.approx(1 / 3)
    assert m["r@2"] == pytest.approx(2 / 3)


@pytest.mark.slow
def test_smoke_run_produces_every_row(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    _tiny_wordnet(tmp_path)
    out = tmp_path / "out.jsonl"
    result = _bench().main(
        ["--wordnet", str(tmp_path), "--steps", "2", "--batch-size", "4", "--max-length", "16",
         "--eval-synsets", "6", "--throughput", "12", "--repeats", "1", "--out", str(out)]
    )  # fmt: skip
    names = [r["contender"] for r in result["rows"]]
    assert len(names) == 4 and names[0] == "tfidf"
    for r in result["rows"]:
        for key in ("mrr", "r@1", "r@10", "synonym_auc"):
            assert 0.0 <= r[key] <= 1.0
        assert r["r@1"] <= r["r@10"] and r["r@1"] <= r["mrr"] <= 1.0
    assert result["train_pairs"] == 8
    assert result["throughput"]["max_abs_diff"] < 1e-4  # same model, same embeddings
    assert json.loads(out.read_text().splitlines()[-1])["rows"] == result["rows"]


@pytest.mark.slow
def test_smoke_run_int8_row_follows_siamkit(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    _tiny_wordnet(tmp_path)
    result = _bench().main(
        ["--wordnet", str(tmp_path), "--steps", "2", "--batch-size", "4", "--max-length", "16",
         "--eval-synsets", "6", "--throughput", "12", "--repeats", "1", "--order", "siamkit",
         "--int8", "--out", str(tmp_path / "out.jsonl")]
    )  # fmt: skip
    rows = {r["contender"]: r for r in result["rows"]}
    assert list(rows) == [
        "tfidf",
        "minilm zero-shot",
        "minilm + siamkit multiple_negatives_ranking",
        "the same, exported to ONNX int8 (OnnxEncoder)",
    ]
    fp32, int8 = (rows[k] for k in list(rows)[2:])
    assert int8["train_seconds"] is None
    # 6 queries: int8 may move a rank or two, not turn the model into another one
    assert abs(int8["synonym_auc"] - fp32["synonym_auc"]) <= 0.2
