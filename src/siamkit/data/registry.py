"""The registry of data sources, by name: torch-free, so plugins register cheaply.

A source is a function ``(argument, options, split) -> LabelledData`` registered under a name
(``digits``, ``image-folder``, an application's ``cedar``) with the kind of items it gives.
Applications register theirs lazily (``"module:function"``) from their plugin module, and a
lookup of a missing name loads the plugins first (:mod:`siamkit.plugins`). The sources
themselves live in :mod:`siamkit.data.sources`.

A plugin registers its sources with, e.g.,
``register_lazy_source("palms", "siamkit_palms.data:palms", "image")``: ``siamkit_palms.data``
is imported only when ``--data palms`` is first loaded.

Example:
    >>> source_kind("digits"), source_kind("csv"), source_kind("text-pairs")
    ('image', 'vector', 'text')
    >>> source_kind("no-such-source") is None
    True
    >>> get_source("digits").__name__
    'digits'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from siamkit.plugins import load_plugins
from siamkit.registry import Registry

if TYPE_CHECKING:
    from siamkit.data.labelled import Kind, LabelledData

SourceFn = Callable[..., "LabelledData"]  # (argument, SourceOptions, split) -> LabelledData
SOURCES: Registry[LabelledData] = Registry("data source")
SOURCE_KINDS: dict[str, Kind] = {}  # source name -> the kind of items it gives


def register_source(name: str, kind: Kind) -> Callable[[SourceFn], SourceFn]:
    """Decorator registering a source function under ``name``, giving items of ``kind``.

    Example:
        >>> import torch
        >>> from siamkit.data import LabelledData, load_data
        >>> @register_source("two-points", "vector")
        ... def two_points(arg, options, split):
        ...     return LabelledData(torch.eye(2), torch.tensor([0, 1]), ["a", "b"], "vector")
        >>> source_kind("two-points")
        'vector'
        >>> load_data("two-points").class_names
        ['a', 'b']
    """

    def add(fn: SourceFn) -> SourceFn:
        SOURCES.register(name)(fn)
        SOURCE_KINDS[name] = kind
        return fn

    return add


def register_lazy_source(name: str, target: str, kind: Kind) -> None:
    """Register the source function at ``target`` (``"module:function"``) under ``name``
    without importing it (how a plugin adds its sources), giving items of ``kind``."""
    SOURCES.register_lazy(name, target)
    SOURCE_KINDS[name] = kind


def get_source(name: str) -> Callable[..., Any]:
    """The source function registered as ``name``, loading the plugins when it is missing.

    Raises:
        ValueError: No such source; the message lists every source, the plugins' included.
    """
    if name not in SOURCES:
        load_plugins()
    return SOURCES.get(name)


def source_names() -> list[str]:
    """Every registered source name, the plugins' included."""
    load_plugins()
    return SOURCES.names()


def source_kind(name: str) -> Kind | None:
    """The kind of items (``image``, ``vector``, ``text``) source ``name`` gives; None for a name
    no source (nor plugin) registers."""
    if name not in SOURCE_KINDS:
        load_plugins()
    return SOURCE_KINDS.get(name)


# siamkit's own sources, by name: each module is imported when its source is first used
for _name, _target, _kind in (
    ("digits", "siamkit.data.sources:digits", "image"),
    ("fashion-mnist", "siamkit.data.sources:fashion_mnist", "image"),
    ("image-folder", "siamkit.data.sources:image_folder", "image"),
    ("csv", "siamkit.data.sources:csv_table", "vector"),
    ("text-pairs", "siamkit.data.text:text_pairs", "text"),
    ("text-labelled", "siamkit.data.text:text_labelled", "text"),
    ("wordnet", "siamkit.data.wordnet:wordnet_source", "text"),
):
    register_lazy_source(_name, _target, _kind)  # type: ignore[arg-type]
