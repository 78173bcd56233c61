"""Frozen title embeddings, computed once and cached on disk keyed by a hash of the title.

The text encoder (siamkit's ``minilm`` by default) is not trained here: each distinct title is
embedded once, the vectors are kept in ``CACHE/titles-<model>.npz`` (key: the first 16 hex
characters of the title's sha256), and later runs read them back, so the Siamese tower trains
on a fixed ``(I, 384)`` matrix at CPU cost of a small MLP.

Example:
    >>> vecs = title_vectors(["Toy Story (1995)"], "minilm", cache_dir=".cache/titles")
    >>> vecs.shape
    (1, 384)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from siamkit.apps.recommend.ratings_data import F32

TextEmbed = Callable[[list[str]], F32]  # texts -> (N, D) float32


def title_key(title: str) -> str:
    """The cache key of a title: 16 hex characters of its UTF-8 sha256."""
    return hashlib.sha256(title.encode("utf-8")).hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$SIAMKIT_CACHE`` or ``~/.cache/siamkit``, plus ``recommend``."""
    root = os.environ.get("SIAMKIT_CACHE") or Path.home() / ".cache" / "siamkit"
    return Path(root) / "recommend"


def _cache_file(cache_dir: Path, model: str) -> Path:
    return cache_dir / f"titles-{re.sub(r'[^A-Za-z0-9_.-]+', '_', model)}.npz"


def _minilm_embed(model: str) -> TextEmbed:
    from siamkit.run.text import load_text_embedder

    emb = load_text_embedder(model, max_length=48, batch_size=256)
    return lambda texts: emb.embed(texts)


def title_vectors(
    titles: Sequence[str],
    model: str = "minilm",
    cache_dir: str | Path | None = None,
    embed: TextEmbed | None = None,
) -> F32:
    """``(N, D)`` embeddings of ``titles``, from the cache where present.

    Args:
        titles: The texts (duplicates are embedded once).
        model: The text encoder (``minilm``, ``hf:PATH`` or a text run); names the cache file.
        cache_dir: Where the cache lives (default :func:`default_cache_dir`); the file is
            rewritten (to a temporary name, then renamed) when titles were added.
        embed: Replaces the encoder (tests); ``model`` still names the cache.

    Raises:
        ValueError: The encoder cannot be loaded (names the extra), or the cache holds vectors
            of another size than the encoder gives.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = _cache_file(folder, model)
    cached: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            cached = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    keys = [title_key(t) for t in titles]
    todo = {k: t for k, t in zip(keys, titles, strict=True) if k not in cached}
    if todo:
        fn = embed if embed is not None else _minilm_embed(model)
        new = np.asarray(fn(list(todo.values())), dtype=np.float32)
        if cached and new.shape[1] != next(iter(cached.values())).shape[0]:
            raise ValueError(f"{path} holds vectors of another size; delete it to rebuild")
        cached.update(zip(todo, new, strict=True))
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))
        tmp.replace(path)
    if not keys:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([cached[k] for k in keys]).astype(np.float32)
