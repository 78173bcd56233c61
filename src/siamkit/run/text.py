"""Texts in, embeddings out: a pretrained text encoder or a trained text run, ready to use.

Tokenises with the model's own tokenizer (Rust, whole lists at once), embeds texts of like
length together and returns rows in input order. Satisfies :class:`siamkit.run.Embedder`.

Example:
    >>> emb = load_text_embedder("minilm")  # or a run directory, or hf:PATH
    >>> emb.embed(["a dog", "a puppy"]).shape
    (2, 384)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork
from siamkit.models.spec import ModelSpec, build_model
from siamkit.models.text import pretrained_dim
from siamkit.models.text_tokenizer import load_tokenizer, text_tokenizer_name
from siamkit.readers import read_texts
from siamkit.run.fingerprint import fingerprint_state


class TextEmbedder:
    """A text twin network with its tokenizer.

    Args:
        model: The network (its encoder reads token ids).
        spec: Its spec (``kind == "text"``: tokenizer and max length).
        batch_size: Texts per forward pass.

    Attributes:
        kind: ``"text"``.
        embedding_dim: ``D``.
        distance: The registered distance the model compares with.
        larger_is_closer: Whether that distance is a similarity.
        input_shape: ``()``: texts have no fixed shape.
        source, calibration, prepare_image: ``""``, None, None (a bare encoder has no run).
    """

    kind = "text"
    input_shape: tuple[int, ...] = ()
    source = ""
    calibration = None
    prepare_image = None

    def __init__(self, model: SiameseNetwork, spec: ModelSpec, batch_size: int = 64) -> None:
        if spec.kind != "text" or spec.tokenizer is None or spec.max_length is None:
            raise ValueError(f"not a text model: kind {spec.kind!r}, encoder {spec.encoder!r}")
        self.model = model.eval()
        self.spec = spec
        self.tokenizer = load_tokenizer(spec.tokenizer)
        self.batch_size = batch_size
        self.embedding_dim = spec.embedding_dim
        self.distance = spec.distance
        self.larger_is_closer = bool(model.distance.larger_is_closer)

    @classmethod
    def pretrained(
        cls, encoder: str = "minilm", max_length: int = 256, distance: str = "cosine"
    ) -> TextEmbedder:
        """A pretrained encoder (``minilm`` or ``hf:PATH``) as it is, mean pooled, L2-normalised."""
        tokenizer = text_tokenizer_name(encoder)
        dim = pretrained_dim(encoder)
        if tokenizer is None or dim is None:
            raise ValueError(
                f"{encoder!r} is not a pretrained text encoder; choose minilm or hf:PATH, or "
                "give a run directory"
            )
        spec = ModelSpec(
            encoder=encoder,
            input_shape=[max_length],
            kind="text",
            embedding_dim=dim,
            distance=distance,
            tokenizer=tokenizer,
            max_length=max_length,
        )
        return cls(build_model(spec), spec)

    @cached_property
    def fingerprint(self) -> str:
        """:func:`siamkit.run.fingerprint_weights` of the model's weights."""
        return fingerprint_state(self.model.state_dict())

    @torch.inference_mode()
    def embed_tensor(self, texts: Sequence[str]) -> Tensor:
        """``(N, D)`` float32 embeddings of ``texts`` (in order)."""
        if not texts:
            return torch.zeros(0, self.embedding_dim)
        ids = self.tokenizer.encode(list(texts), self.spec.max_length or 128)  # (N, L)
        return embed_all(self.model, ids, batch_size=self.batch_size)

    def embed(self, inputs: Sequence[str]) -> npt.NDArray[np.float32]:
        """``(N, D)`` float32 numpy embeddings of texts."""
        if isinstance(inputs, str):
            raise ValueError("embed takes a list of texts, not one string; wrap it in a list")
        return self.embed_tensor(inputs).numpy().astype(np.float32)

    def load(self, sources: Sequence[str]) -> tuple[list[str], list[str]]:
        """Texts from ``.txt``/``.md`` files or the strings themselves, and their names."""
        return read_texts(sources)

    @torch.inference_mode()
    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """``(B,)`` distances between rows of two ``(B, D)`` arrays, by the model's distance."""
        d = self.model.distance.pairwise(torch.from_numpy(a), torch.from_numpy(b))
        return d.double().numpy()

    def decision_rule(self) -> None:
        """None: a bare encoder has no threshold (a text run's comes from the run)."""
        return None


def load_text_embedder(model: str, max_length: int = 256, batch_size: int = 64) -> TextEmbedder:
    """``minilm``, ``hf:PATH`` (pretrained, as is) or a text run directory (its best checkpoint).

    Raises:
        ValueError: Neither a pretrained text encoder nor a text run, with what to give.
    """
    if Path(model).is_dir() and (Path(model) / "best").is_dir():
        from siamkit.run.checkpoint import load_run

        run = load_run(model)
        if run.spec.kind != "text":
            raise ValueError(f"{model} is a {run.spec.kind} run; this needs a text model")
        return TextEmbedder(run.model, run.spec, batch_size)
    emb = TextEmbedder.pretrained(model, max_length)
    emb.batch_size = batch_size
    return emb
