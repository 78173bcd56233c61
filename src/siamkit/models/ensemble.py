"""Several trained encoders as one: their L2-normalised embeddings, concatenated.

A refit run trains two models anyway: the selection model (without the held-out classes) and
the final one (on every training class). Embedding with both (``--keep-selection``) is an
ensemble at no extra training; each member's
embedding is normalised to length ``1/sqrt(k)``, so the whole is unit length and a distance
between two items averages the members' squared distances.

Example:
    >>> import torch
    >>> from siamkit.models.mlp import MLPEncoder
    >>> both = ConcatEncoder([MLPEncoder(4, 3), MLPEncoder(4, 3)])
    >>> z = both(torch.randn(5, 4))
    >>> z.shape, [round(v, 4) for v in z.norm(dim=1).tolist()][:2]
    (torch.Size([5, 6]), [1.0, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def join_normalised(parts: Sequence[Tensor]) -> Tensor:
    """``k`` embeddings ``(B, D_i)`` -> ``(B, sum of D_i)``: each L2-normalised and scaled by
    ``1/sqrt(k)``, side by side (unit length; an all-zero part stays zero).

    Example:
        >>> join_normalised([torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 2.0]])]) * 2**0.5
        tensor([[0.6000, 0.8000, 0.0000, 1.0000]])
    """
    scale = 1.0 / math.sqrt(len(parts))
    return torch.cat([F.normalize(p, dim=1) * scale for p in parts], dim=1)


class ConcatEncoder(nn.Module):
    """Inputs -> ``(B, sum of D_i)``: each member's embedding L2-normalised and scaled by
    ``1/sqrt(k)``, concatenated in member order."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 encoders, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, ...)`` -> ``(B, sum of D_i)``, unit length."""
        return join_normalised([m(x) for m in self.members])
