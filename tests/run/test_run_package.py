"""The run package: records read without torch, the one decision rule, kinds and the registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from siamkit.registry import Registry
from siamkit.run import (
    EMBEDDERS,
    DecisionRule,
    accepts,
    fingerprint_state,
    load_embedder,
    model_kind,
    open_run,
    read_json,
    write_json,
)
from siamkit.run.format import FORMAT, upgrade_train_settings
from siamkit.run.torch_embedder import RunEmbedder


def test_accepts_is_a_threshold_on_either_side() -> None:
    d = np.array([0.2, 0.5, 0.9])
    assert accepts(d, 0.5).tolist() == [True, True, False]  # distances: at or below
    assert accepts(d, 0.5, larger_is_closer=True).tolist() == [False, True, True]


def test_decision_rule_refuses_a_threshold_that_is_not_a_number() -> None:
    with pytest.raises(ValueError, match="finite"):
        DecisionRule("euclidean", float("nan"), False, None)
    rule = DecisionRule("euclidean", 1.0, False, None, "validation")
    assert rule.with_threshold(0.3).same([0.2, 0.4]).tolist() == [True, False]
    assert rule.probability([0.2]) is None and not rule.calibrated


def test_a_run_records_its_format_and_kind(trained_run: Path) -> None:
    for path in (trained_run / "config.json", trained_run / "best" / "config.json"):
        saved = json.loads(path.read_text())
        assert (saved["format"], saved["kind"]) == (FORMAT, "torch")
    assert model_kind(trained_run) == "torch"


def test_open_run_reads_the_records_without_torch(trained_run: Path) -> None:
    code = (
        "import sys; from siamkit.run import open_run; r = open_run(sys.argv[1]); "
        "print(r.train['data'], r.threshold_source(), r.fingerprint()); "
        "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(trained_run)], capture_output=True, text=True, check=True
    ).stdout.split()
    state = load_file(str(trained_run / "best" / "model.safetensors"))
    assert out[0] == "digits"
    assert out[2] == fingerprint_state(state)  # numpy-read file == torch state dict
    assert out[3] == "False"
    emb = RunEmbedder(trained_run)
    assert out[1] == open_run(trained_run).threshold_source()
    rule = emb.decision_rule()
    assert rule is not None and rule.threshold == emb.threshold


def test_an_old_run_without_header_is_still_a_torch_run(trained_run: Path, tmp_path: Path) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(trained_run, old)
    for path in (old / "config.json", old / "best" / "config.json"):
        saved = json.loads(path.read_text())
        del saved["format"], saved["kind"]
        path.write_text(json.dumps(saved))
    assert model_kind(old) == "torch" and open_run(old).format == 1
    assert load_embedder(old).fingerprint == RunEmbedder(trained_run).fingerprint


def test_a_newer_format_is_refused_with_the_fix(tmp_path: Path) -> None:
    write_json(tmp_path / "config.json", {"format": FORMAT + 1, "kind": "torch"})
    with pytest.raises(ValueError, match="upgrade siamkit"):
        model_kind(tmp_path)


def test_nothing_there_names_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a finished siamkit run"):
        load_embedder(tmp_path / "missing")
    (tmp_path / "x").mkdir()
    with pytest.raises(ValueError, match=r"holds no siamkit config\.json"):
        load_embedder(tmp_path / "x")


def test_an_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    write_json(tmp_path / "config.json", {"format": FORMAT, "kind": "palm-reader"})
    with pytest.raises(ValueError, match=r"palm-reader.*known kinds:.*onnx.*torch"):
        load_embedder(tmp_path)


def test_read_json_names_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"m\.json is not valid JSON.*restore it"):
        read_json(tmp_path / "m.json", "restore it")
    write_json(tmp_path / "ok.json", {"a": 1})
    assert read_json(tmp_path / "ok.json") == {"a": 1}
    assert not (tmp_path / "ok.json.tmp").exists()


def test_newer_settings_take_the_value_old_runs_trained_with() -> None:
    got = upgrade_train_settings({"epochs": 3}, {"epochs": 5, "rotation": None, "refit": True})
    assert got == {"epochs": 3, "rotation": 0.0, "refit": False}


def test_register_lazy_imports_on_first_use() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register_lazy("dumps", "json:dumps")
    assert "dumps" in reg and reg.names() == ["dumps"]
    assert reg.get("dumps") is json.dumps
    with pytest.raises(ValueError, match="already registered"):
        reg.register_lazy("dumps", "json:loads")
    with pytest.raises(ValueError, match="module:attribute"):
        reg.register_lazy("bad", "json.dumps")
    assert {"torch", "onnx"} <= set(EMBEDDERS.names())
