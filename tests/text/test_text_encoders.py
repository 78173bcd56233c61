"""Text encoders against references: sentence-transformers, a plain pooling loop, padding."""

from __future__ import annotations

import pytest
import torch

from siamkit.models.embed import embed_all
from siamkit.models.registry import build_encoder
from siamkit.models.spec import ModelSpec, build_model
from siamkit.models.text import TextCNNEncoder, TransformerEncoder, length_groups, mean_pool
from siamkit.models.text_tokenizer import load_tokenizer, minilm_dir, text_tokenizer_name

TEXTS = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog near the bank of the river.",
    "hi",
    "Similarity learning with Siamese networks answers: are these two the same?",
    "naïve café — ünïcode",
]


def _spec(encoder: str, tokenizer: str, dim: int = 384) -> ModelSpec:
    return ModelSpec(
        encoder=encoder,
        input_shape=[128],
        kind="text",
        embedding_dim=dim,
        tokenizer=tokenizer,
        max_length=128,
        distance="cosine",
    )


def test_minilm_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(minilm_dir()), device="cpu")
    ref.max_seq_length = 128
    expected = ref.encode(TEXTS, convert_to_tensor=True, batch_size=2)  # (5, 384), normalised
    model = build_model(_spec("minilm", "minilm"))
    ids = load_tokenizer("minilm").encode(TEXTS, 128)  # (5, L)
    got = embed_all(model, ids, batch_size=2)  # length-sorted batches, put back in order
    assert got.shape == (5, 384)
    assert torch.allclose(got, expected.cpu(), atol=1e-5, rtol=0)
    assert torch.allclose(got.norm(dim=1), torch.ones(5), atol=1e-5)


def test_hf_path_is_the_same_model_as_minilm() -> None:
    folder = str(minilm_dir())
    assert text_tokenizer_name(f"hf:{folder}") == folder
    ids = load_tokenizer(folder).encode(TEXTS[:2], 64)
    a = embed_all(build_model(_spec(f"hf:{folder}", folder)), ids)
    b = embed_all(build_model(_spec("minilm", "minilm")), ids)
    assert torch.equal(a, b)


def test_pretrained_encoder_checks_dim_and_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="gives 384-d embeddings, not 64"):
        build_encoder("minilm", (128,), 64)
    with pytest.raises(ValueError, match="not a Hugging Face model directory"):
        build_encoder(f"hf:{tmp_path}", (128,), 384)
    with pytest.raises(ValueError, match="takes no argument"):
        build_encoder("conv:x", (1, 8, 8), 4)


def test_mean_pool_matches_a_plain_loop() -> None:
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 5, 4, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    expected = torch.stack(
        [torch.stack([hidden[b, t] for t in range(5) if mask[b, t]]).mean(0) for b in range(3)]
    )
    assert torch.allclose(mean_pool(hidden, mask), expected, atol=1e-6)


def test_padding_never_changes_an_embedding() -> None:
    tok = load_tokenizer("minilm")
    short = tok.encode(TEXTS[:1], 128)  # (1, L) no padding
    padded = tok.encode(TEXTS[:1], 64, pad_to_max=True)  # (1, 64)
    assert padded.shape == (1, 64) and (padded[0, short.shape[1] :] == tok.pad_id).all()
    torch.manual_seed(0)
    cnn = TextCNNEncoder(tok.vocab_size, tok.pad_id, embedding_dim=16, token_dim=8, channels=8)
    cnn.eval()
    assert torch.allclose(cnn(short), cnn(padded), atol=1e-6)
    batch = tok.encode(TEXTS, 128)  # the first row is padded here
    assert torch.allclose(cnn(batch)[:1], cnn(short), atol=1e-5)


def test_length_groups_cut_only_where_padding_is_saved() -> None:
    def mask(lengths: list[int]) -> torch.Tensor:
        return torch.arange(max(lengths)) < torch.tensor(lengths).unsqueeze(1)  # (B, L)

    mixed = [3, 20, 4, 22, 2, 24, 5, 21] * 2  # (word, definition) rows, 16 of them
    groups = length_groups(mask(mixed))
    assert groups is not None
    short, long = (sorted(mixed[i] for i in g.tolist()) for g in groups)
    assert short == sorted(mixed)[:8] and long == sorted(mixed)[8:]
    # by hand: 8 rows x 5 + 8 rows x 24 = 232 positions against 16 x 24 = 384 (0.60 <= 0.8)
    assert length_groups(mask(mixed), keep=0.6) is None and length_groups(mask(mixed), keep=0.61)
    assert length_groups(mask([10, 11, 12, 12] * 4)) is None  # alike lengths: no gain
    assert length_groups(mask([3, 24] * 4)) is None  # too few rows to cut


def test_minilm_in_length_groups_gives_each_row_its_own_embedding() -> None:
    texts = [t for pair in zip(TEXTS * 4, ["dog", "cat", "a bank", "fox", "tea"] * 4) for t in pair]
    ids = load_tokenizer("minilm").encode(texts, 128)  # (40, L): long and short rows mixed
    enc = TransformerEncoder("minilm").eval()
    assert length_groups(ids != enc.pad_id) is not None
    with torch.no_grad():
        got = enc(ids)  # (40, 384), two calls
        one_by_one = torch.cat([enc(ids[i : i + 1]) for i in range(len(ids))])
    assert torch.allclose(got, one_by_one, atol=1e-5)


def test_text_cnn_trains_from_scratch_shapes() -> None:
    enc = build_encoder("text_cnn", (32,), 24, [16, 32])
    ids = load_tokenizer("minilm").encode(TEXTS, 32)
    out = enc(ids)
    assert out.shape == (5, 24)
    out.sum().backward()
    assert enc.embed.weight.grad is not None  # type: ignore[union-attr]


def test_empty_text_is_refused_with_its_position() -> None:
    with pytest.raises(ValueError, match="text 1 is empty"):
        load_tokenizer("minilm").encode(["fine", "  "], 16)


def test_set_dropout_reaches_every_layer_of_minilm() -> None:
    from siamkit.training.setup import set_dropout

    ids = load_tokenizer("minilm").encode(TEXTS, 32)
    enc = TransformerEncoder("minilm").train()
    torch.manual_seed(0)
    a = enc(ids)
    assert not torch.allclose(a, enc(ids), atol=1e-4)  # the shipped 0.1: two draws differ
    set_dropout(enc, 0.0)
    with torch.no_grad():
        trained = enc(ids)
        assert torch.allclose(trained, enc.eval()(ids), atol=1e-5)  # no dropout left anywhere
    with pytest.raises(ValueError, match="no dropout layers"):
        set_dropout(TextCNNEncoder(100, 0, embedding_dim=4, token_dim=4, channels=4), 0.0)
