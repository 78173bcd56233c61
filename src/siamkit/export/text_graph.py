"""Text encoders made traceable: what the ONNX export runs instead of the training forward.

A Hugging Face transformer builds its position and token-type ids from the traced sequence
length, which tracing freezes (an export traced at 8 tokens gives wrong embeddings at 11).
:class:`TraceableTransformer` passes both explicitly, computed from the input's shape, so the
token axis stays dynamic. The maths is the encoder's own: attention mask ``ids != pad_id`` and
mean pooling over real tokens (:func:`siamkit.models.text.mean_pool`).

:func:`traceable_encoder` wraps a ``minilm`` or ``hf:PATH`` encoder in a
:class:`TraceableTransformer` (same weights) and gives any other encoder back as it is.

Example:
    >>> from siamkit.run.checkpoint import load_run
    >>> encoder = load_run("runs/digits").model.encoder  # a conv encoder
    >>> traceable_encoder(encoder) is encoder, is_transformer(encoder)
    (True, False)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from siamkit.models.text import TransformerEncoder, mean_pool


class TraceableTransformer(nn.Module):
    """Token ids ``(B, L)`` -> ``(B, H)``, as :class:`~siamkit.models.text.TransformerEncoder`.

    Args:
        encoder: The run's transformer encoder (its weights are shared, not copied).
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, ids: Tensor) -> Tensor:
        """``(B, L)`` int64 ids, right-padded with the tokenizer's pad id -> ``(B, H)``."""
        enc: Any = self.encoder  # a TransformerEncoder (typed loosely: text is an optional extra)
        mask: Tensor = ids != enc.pad_id  # (B, L)
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0).expand_as(ids)
        out = enc.model(
            input_ids=ids,
            attention_mask=mask.long(),
            token_type_ids=torch.zeros_like(ids),
            position_ids=positions,
        )
        return mean_pool(out.last_hidden_state, mask)  # (B, H)


def traceable_encoder(encoder: nn.Module) -> nn.Module:
    """The module to trace for ``encoder``: a wrapper for transformers, else ``encoder``."""
    return TraceableTransformer(encoder) if isinstance(encoder, TransformerEncoder) else encoder


def is_transformer(encoder: nn.Module) -> bool:
    """Whether ``encoder`` is a pretrained transformer (dynamic int8 suits it)."""
    return isinstance(traceable_encoder(encoder), TraceableTransformer)
