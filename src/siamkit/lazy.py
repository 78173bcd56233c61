"""Lazy re-exports for packages whose parts are heavy, so importing the package stays cheap.

A package names its public objects and the submodule each lives in; an object's module (with
its heavy dependencies: torch, numpy, dlib, typer) is imported the first time the object is
asked for (PEP 562's module ``__getattr__``). ``siamkit``, ``siamkit.data``, ``siamkit.run`` and
the application packages use it.

Example (a package's ``__init__``)::

    _EXPORTS = {"embedder": ("FaceEmbedder",), "run": ("FaceRunConfig", "is_face_run")}
    __all__ = exported_names(_EXPORTS)

    def __getattr__(name: str) -> Any:
        return lazy_export(__name__, _EXPORTS, name)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

Exports = Mapping[str, Sequence[str]]  # submodule name -> the public names it defines


def exported_names(exports: Exports) -> list[str]:
    """Every re-exported name, sorted (the package's ``__all__``)."""
    return sorted(name for names in exports.values() for name in names)


def lazy_export(package: str, exports: Exports, name: str) -> Any:
    """The object ``name`` of ``package``, imported from its submodule and cached on the package.

    Raises:
        AttributeError: ``name`` is not one of the package's exports.
    """
    for module, names in exports.items():
        if name in names:
            value = getattr(importlib.import_module(f"{package}.{module}"), name)
            setattr(sys.modules[package], name, value)
            return value
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
