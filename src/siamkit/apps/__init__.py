"""Applications built on siamkit's pipeline: each a recipe with its own data builders and loaders.

One module (or sub-package) per application; see ``docs/applications/`` for the recipes.
"""
