"""Text runs export too: ids with dynamic batch and token axes, the tokenizer in the metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siamkit.export import export_run
from siamkit.runtime import OnnxEncoder
from siamkit.training import TrainConfig, load_run, train

pytest.importorskip("transformers", reason="text encoders need the text extra")
pytest.importorskip("tokenizers", reason="text encoders need the text extra")

TOPICS = {
    "animals": ["a dog barks", "the cat sleeps", "a horse runs fast", "birds sing at dawn",
                "the cow eats grass", "a fish swims"],
    "food": ["bread with butter", "a bowl of soup", "fresh apple pie", "rice and beans",
             "hot pizza slice", "cold ice cream"],
    "weather": ["heavy rain today", "a sunny morning", "snow on the hills", "strong wind blows",
                "thunder and lightning", "a foggy evening"],
    "sport": ["the team scored a goal", "tennis match point", "he ran a marathon",
              "swimming race final", "a basketball dunk", "cycling up the mountain"],
}  # fmt: skip
PROBES = ["a dog and a cat", "x", "a much longer sentence about the weather and the food we ate"]


def _run(tmp: Path, encoder: str, **kw: object) -> Path:
    csv = tmp / "texts.csv"
    rows = [f'"{t}",{label}' for label, texts in TOPICS.items() for t in texts]
    csv.write_text("text,label\n" + "\n".join(rows) + "\n")
    out = tmp / encoder
    cfg = TrainConfig(data=f"text-labelled:{csv}", encoder=encoder, train_classes="animals,food",
                      eval_classes="weather,sport", val_classes="none", val_fraction=0.0,
                      epochs=1, batch_size=8, max_length=32, out=str(out), seed=0, **kw)  # type: ignore[arg-type]  # fmt: skip
    train(cfg, progress=False)
    return out


def _torch_embed(run_dir: Path, texts: list[str]) -> np.ndarray:
    import torch

    from siamkit.models.text_tokenizer import load_tokenizer

    run = load_run(run_dir)
    ids = load_tokenizer(run.spec.tokenizer).encode(texts, run.spec.max_length)
    with torch.inference_mode():
        return run.model.embed(ids).numpy()


def test_text_cnn_exports_with_its_tokenizer(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "text_cnn", embedding_dim=16, widths=[16, 16])
    report = export_run(run_dir, tmp_path / "t.onnx")
    assert report.parity.min_cosine >= 0.9999
    enc = OnnxEncoder(tmp_path / "t.onnx")
    assert enc.kind == "text" and enc.metadata.input_names == ["input_ids"]
    assert enc.metadata.extra["max_length"] == 32
    np.testing.assert_allclose(enc.embed(PROBES), _torch_embed(run_dir, PROBES), atol=1e-5)
    with pytest.raises(ValueError, match="takes a list of strings, got str; wrap one text"):
        enc.embed("a dog")
    with pytest.raises(ValueError, match="text 1 is empty"):
        enc.embed(["a dog", " "])


@pytest.mark.slow
def test_minilm_exports_and_quantizes_dynamically(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "minilm", embedding_dim=384, lr=1e-5)
    fp32 = export_run(run_dir, tmp_path / "m.onnx")
    assert fp32.parity.min_cosine >= 0.9999
    enc = OnnxEncoder(tmp_path / "m.onnx")
    # a longer text than the traced example: the token axis is dynamic
    np.testing.assert_allclose(enc.embed(PROBES), _torch_embed(run_dir, PROBES), atol=1e-4)
    int8 = export_run(run_dir, tmp_path / "m8.onnx", quantize="int8")
    enc8 = OnnxEncoder(tmp_path / "m8.onnx")
    assert enc8.metadata.quantization == "int8-dynamic"
    assert int8.size_bytes < 0.5 * fp32.size_bytes
    assert int8.metric_change is not None and int8.int8_parity is not None
    assert int8.int8_parity.min_cosine > 0.9
