"""Loading a text model changes nothing in the caller's process: no environment variables,
no transformers logging level or progress bar."""

from __future__ import annotations

import os

import pytest

transformers = pytest.importorskip("transformers")


def test_loading_the_tokenizer_and_encoder_leaves_the_process_as_it_was() -> None:
    from siamkit.models.text import TransformerEncoder
    from siamkit.models.text_tokenizer import TextTokenizer

    logging = transformers.utils.logging
    logging.set_verbosity_warning()
    logging.enable_progress_bar()
    env = dict(os.environ)
    TextTokenizer("minilm")
    TransformerEncoder("minilm")
    added = {k: v for k, v in os.environ.items() if env.get(k) != v}
    # torch sets its own inductor cache path on first use; siamkit sets nothing
    assert {k for k in added if not k.startswith("TORCHINDUCTOR_")} == set()
    assert logging.get_verbosity() == logging.WARNING
    assert logging.is_progress_bar_enabled()
