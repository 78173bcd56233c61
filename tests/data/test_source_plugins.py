"""Application sources come from their plugins: found by name, listed, and of a declared kind."""

from __future__ import annotations

import pytest

from siamkit.data import SOURCES, get_source, load_data, source_kind, source_names
from siamkit.run.config import default_loss


def test_application_sources_are_found_listed_and_typed() -> None:
    assert {"cedar", "cedar-hands", "omniglot"} <= set(source_names())
    assert get_source("omniglot").__module__ == "siamkit.apps.omniglot.layout"
    assert get_source("cedar").__module__ == "siamkit.apps.signatures.cedar"
    kinds = {name: source_kind(name) for name in SOURCES}
    assert kinds["omniglot"] == kinds["cedar"] == kinds["cedar-hands"] == "image"
    assert kinds["digits"] == "image" and kinds["csv"] == "vector"
    assert kinds["wordnet"] == kinds["text-pairs"] == kinds["text-labelled"] == "text"
    assert source_kind("nosuch") is None


def test_an_unknown_source_lists_the_applications_sources_too() -> None:
    with pytest.raises(ValueError, match=r"unknown data source 'nosuch'; choose one of: cedar"):
        load_data("nosuch")


def test_the_default_loss_follows_the_sources_kind() -> None:
    assert default_loss("omniglot:x") == default_loss("digits") == "multi_similarity"
    assert default_loss("cedar-hands:x") == "multi_similarity"
    assert default_loss("csv:x") == default_loss("nosuch") == "contrastive"
    assert default_loss("wordnet", encoder="minilm") == "multiple_negatives_ranking"
