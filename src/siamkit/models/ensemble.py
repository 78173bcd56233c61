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


class ConcatEncoder(nn.Module):
    """Inputs -> ``(B, sum of D_i)``: each member's embedding L2-normalised and scaled by
    ``1/sqrt(k)``, concatenated in member order."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 encoders, got {len(members)}")
        self.members = nn.ModuleList(members)
        self.scale = 1.0 / math.sqrt(len(members))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, ...)`` -> ``(B, sum of D_i)``, unit length."""
        parts = [F.normalize(m(x), dim=1) * self.scale for m in self.members]
        return torch.cat(parts, dim=1)
