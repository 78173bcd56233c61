"""The encoder registry: ``conv`` for images, ``mlp`` for feature vectors."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from siamkit.registry import Registry

ENCODERS: Registry[nn.Module] = Registry("encoder")


def build_encoder(
    name: str,
    input_shape: Sequence[int],
    embedding_dim: int,
    widths: Sequence[int] | None = None,
) -> nn.Module:
    """Build a registered encoder for inputs of ``input_shape`` (one item, no batch axis).

    Args:
        name: Registered encoder name (``conv``, ``mlp``).
        input_shape: ``(C, H, W)`` for images, ``(F,)`` for feature vectors.
        embedding_dim: Size of the output embedding.
        widths: Channel widths (conv) or hidden sizes (mlp); the encoder's default if None.
    """
    factory = ENCODERS.get(name)
    return factory(input_shape=tuple(input_shape), embedding_dim=embedding_dim, widths=widths)
