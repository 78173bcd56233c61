"""Applications built on siamkit's pipeline, one package each, plugged in from the top.

Each package (``faces``, ``glyphs``, ``signatures``, ``omniglot``, ``recommend``, ``tracking``)
holds a recipe with its own data builders, loaders and CLI, and a ``plugin`` module that
registers its data sources, model kinds and command groups (:mod:`siamkit.plugins`); nothing
below the applications imports them. See ``docs/applications/`` for the recipes.
"""
