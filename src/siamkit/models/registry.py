"""The encoder registry: ``conv`` for images, ``mlp`` for feature vectors, ``minilm``,
``hf:PATH`` and ``text_cnn`` for text (:mod:`siamkit.models.text`)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from torch import nn

from siamkit.registry import Registry

ENCODERS: Registry[nn.Module] = Registry("encoder")


def build_encoder(
    name: str,
    input_shape: Sequence[int],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
    *,
    image_size: int | None = None,
    head: bool = True,
    pretrained: bool = False,
    keep_pretrained: bool = False,
) -> nn.Module:
    """Build a registered encoder for inputs of ``input_shape`` (one item, no batch axis).

    Args:
        name: Registered encoder name (``conv``, ``mlp``, ``minilm``, ``text_cnn``), or
            ``NAME:ARGUMENT`` for encoders that take one (``hf:PATH``).
        input_shape: ``(C, H, W)`` for images, ``(F,)`` for feature vectors, ``(L,)`` for text.
        embedding_dim: Size of the output embedding.
        widths: Channel widths (conv) or hidden sizes (mlp); the encoder's default if None.
        image_size, head, pretrained: Pretrained image encoders only: the side images are
            resized to inside the model, a linear head to ``embedding_dim`` (else the pooled
            features), and whether to load the pretrained weights (a fresh run).
        keep_pretrained: Pretrained image encoders only: embed with an untouched copy's
            features beside the trained ones.
    """
    base, _, arg = name.partition(":")
    factory = ENCODERS.get(base)
    accepts = inspect.signature(factory).parameters
    extra: dict[str, object] = {}
    if "image_size" in accepts:
        extra = {
            "image_size": image_size,
            "head": head,
            "pretrained": pretrained,
            "keep_pretrained": keep_pretrained,
        }
    if arg:
        if "path" not in accepts:
            raise ValueError(f"encoder '{base}' takes no argument; got '{name}'")
        extra["path"] = arg
    return factory(
        input_shape=tuple(input_shape), embedding_dim=embedding_dim, widths=widths, **extra
    )
