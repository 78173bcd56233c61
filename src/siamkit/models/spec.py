"""What is needed to rebuild a trained network without its data: saved beside every checkpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from torch import nn

from siamkit.models.registry import build_encoder
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.standardize import Standardize


class ModelSpec(BaseModel):
    """The architecture of a trained twin network."""

    model_config = ConfigDict(extra="forbid")

    encoder: str  # registered encoder name
    input_shape: list[int]  # one item: (C, H, W), (F,) or (L,) token ids
    kind: str  # "image", "vector" or "text"
    embedding_dim: int  # output size D
    widths: list[int] | None = None  # encoder widths / hidden sizes; None = encoder default
    normalize: bool = True  # L2-normalise embeddings
    distance: str = "euclidean"  # registered distance used to compare embeddings
    tokenizer: str | None = None  # text: "minilm" or the Hugging Face model dir whose tokenizer
    # turns texts into ids (see siamkit.models.text_tokenizer)
    max_length: int | None = None  # text: tokens kept per text (longer texts are truncated)
    image_size: int | None = None  # pretrained image encoders: the side images are resized to
    # inside the model (grey copied to RGB, then the weights' own normalisation)
    head: bool = True  # pretrained image encoders: a linear head to embedding_dim; False = the
    # backbone's pooled features (embedding_dim is then their size)
    keep_pretrained: bool = False  # pretrained image encoders: an untouched copy's features
    # beside the trained ones (embedding_dim counts both); runs saved before it have none
    members: int = 1  # encoders of this architecture whose normalised embeddings are
    # concatenated (siamkit.models.ensemble; 2 = the refit model and the selection model);
    # embedding_dim counts them all

    def standardize_shape(self) -> tuple[int, ...]:
        """Shape of the Standardize buffers: per channel for images, per feature for vectors."""
        if self.kind == "image":
            return (self.input_shape[0], 1, 1)
        return tuple(self.input_shape)


def build_model(spec: ModelSpec, pretrained: bool = False) -> SiameseNetwork:
    """A fresh :class:`SiameseNetwork` for ``spec``: Standardize then the registered encoder
    (text encoders take token ids, so they have no Standardize layer); ``spec.members`` of
    them side by side (:class:`~siamkit.models.ensemble.ConcatEncoder`) when more than one.
    ``pretrained`` loads a pretrained image encoder's published weights (a fresh run; a saved
    run has its own)."""
    if spec.members > 1:
        from siamkit.models.ensemble import ConcatEncoder

        if spec.embedding_dim % spec.members:
            raise ValueError(
                f"embedding_dim {spec.embedding_dim} is not a multiple of members "
                f"{spec.members}; the model spec is damaged"
            )
        one = spec.model_copy(
            update={"members": 1, "embedding_dim": spec.embedding_dim // spec.members}
        )
        encoder: nn.Module = ConcatEncoder([_encoder(one, pretrained) for _ in range(spec.members)])
    else:
        encoder = _encoder(spec, pretrained)
    return SiameseNetwork(
        encoder, spec.distance, normalize=spec.normalize, embedding_dim=spec.embedding_dim
    )


def _encoder(spec: ModelSpec, pretrained: bool) -> nn.Module:
    """One encoder of ``spec`` (``members`` 1), with its Standardize layer unless text."""
    if spec.kind == "text":
        return build_encoder(spec.encoder, spec.input_shape, spec.embedding_dim, spec.widths)
    return nn.Sequential(
        Standardize.identity(spec.standardize_shape()),
        build_encoder(
            spec.encoder,
            spec.input_shape,
            spec.embedding_dim,
            spec.widths,
            image_size=spec.image_size,
            head=spec.head,
            pretrained=pretrained,
            keep_pretrained=spec.keep_pretrained,
        ),
    )
