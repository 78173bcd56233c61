"""A name -> object registry, so configs and the CLI can name losses, distances and encoders.

A registry never imports what registers in it: a module registers its factories with the
decorator when it is imported, or names them as ``"module:attribute"`` with
:meth:`Registry.register_lazy`, which imports the module only when the name is first asked for
(how applications plug in without being imported by the layers below them).

Example:
    >>> operations = Registry("operation")
    >>> @operations.register("square")
    ... def square(x):
    ...     return x * x
    >>> operations.register_lazy("sqrt", "math:sqrt")  # math is imported on the first get
    >>> operations.names()
    ['sqrt', 'square']
    >>> operations.get("square")(3), operations.get("sqrt")(9)
    (9, 3.0)
    >>> operations.get("cube")
    Traceback (most recent call last):
        ...
    ValueError: unknown operation 'cube'; choose one of: sqrt, square

    siamkit's own registries hold its parts:

    >>> from siamkit.distances import DISTANCES
    >>> DISTANCES.names()
    ['cosine', 'euclidean', 'mahalanobis', 'manhattan', 'squared_euclidean']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories of one kind of object (``kind`` is used in error messages).

    Args:
        kind: What the registry holds, e.g. ``"distance"``.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Callable[..., T]] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:attribute", imported on first get

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a factory (a class or a function) under ``name``."""

        def add(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._items or name in self._lazy:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._items[name] = factory
            return factory

        return add

    def register_lazy(self, name: str, target: str) -> None:
        """Register the factory at ``target`` (``"package.module:attribute"``, the attribute may
        be dotted) under ``name`` without importing it; it is imported on the first :meth:`get`.

        Raises:
            ValueError: ``name`` is taken, or ``target`` is not ``module:attribute``.
        """
        if name in self._items or name in self._lazy:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        module, sep, attribute = target.partition(":")
        if not sep or not module or not attribute:
            raise ValueError(
                f"lazy {self.kind} '{name}' must name 'module:attribute'; got {target!r}"
            )
        self._lazy[name] = target

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted({*self._items, *self._lazy})

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``; a ValueError lists the valid names otherwise."""
        if name not in self._items and name in self._lazy:
            module, _, attribute = self._lazy[name].partition(":")
            obj: object = importlib.import_module(module)
            for part in attribute.split("."):
                obj = getattr(obj, part)
            self._items[name] = cast("Callable[..., T]", obj)
        try:
            return self._items[name]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
