"""One identity for a set of weights, the same whether read by torch, numpy or from ONNX.

A gallery refuses embeddings from a model whose fingerprint differs from its own; an ONNX
export carries the fingerprint of the run it came from. This module imports neither torch nor
onnxruntime.

Example:
    >>> w = {"w": np.zeros(3, np.float32)}
    >>> fingerprint_weights(w)  # 16 hex characters
    '42ddc7829e309f08'
    >>> fingerprint_weights(w, variant="int8")  # a quantized export of the same weights
    '42ddc7829e309f08:int8'
    >>> import torch
    >>> fingerprint_state({"w": torch.zeros(3)}) == fingerprint_weights(w)  # torch or numpy
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FINGERPRINT_CHARS = 16  # hex characters kept of the sha256


def fingerprint_weights(weights: Mapping[str, npt.ArrayLike], *, variant: str = "") -> str:
    """A short, stable identity for a set of weights: sha256 over sorted names, shapes, bytes.

    The same weights give the same fingerprint whether read from a safetensors file (torch) or
    carried in an exported model's metadata. ``variant`` marks derived numerics (``"int8"``), so
    a quantized export is told apart from its float source.

    Args:
        weights: Tensor name -> array (numpy arrays, or CPU torch tensors).
        variant: Appended as ``":variant"`` when not empty.

    Returns:
        16 hex characters, plus ``":variant"``.
    """
    h = hashlib.sha256()
    for name in sorted(weights):
        arr = np.ascontiguousarray(np.asarray(weights[name]))
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    fp = h.hexdigest()[:FINGERPRINT_CHARS]
    return f"{fp}:{variant}" if variant else fp


def fingerprint_state(state: Mapping[str, Any], *, variant: str = "") -> str:
    """:func:`fingerprint_weights` of a torch ``state_dict`` (tensors on any device)."""
    arrays = {k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}
    return fingerprint_weights(arrays, variant=variant)


def fingerprint_file(path: str | Path) -> str:
    """:func:`fingerprint_weights` of a ``.safetensors`` file, read with numpy (no torch).

    Raises:
        ValueError: The file is missing or not a readable safetensors file; named.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return fingerprint_weights(load_file(str(path)))
    except FileNotFoundError:
        raise ValueError(f"weights file not found: {path}") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable safetensors file ({e})") from None
