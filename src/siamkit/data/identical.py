"""Which items of a batch are the same input: the data side of the false-negative guard.

Datasets hold exact duplicates (Fashion-MNIST's training split has some), and a batch of
unlabelled items treats every other item as a negative. Two identical inputs must never be
pushed apart, so the trainer marks them and the losses leave such pairs out of the negatives.

Example:
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    >>> identical_inputs(x)[0, 2].item()
    True
"""

from __future__ import annotations

import torch
from torch import Tensor


def identical_inputs(x: Tensor) -> Tensor:
    """``(B, B)`` bool: True where items ``i != j`` hold exactly the same values.

    Cheap on a batch of distinct items (one pass over the data): rows are first grouped by two
    float64 sums, and only rows whose sums agree are compared element by element.

    Args:
        x: ``(B, ...)`` a batch of inputs (images, vectors).

    Returns:
        ``(B, B)`` bool, symmetric, False on the diagonal.
    """
    b = x.shape[0]
    flat = x.reshape(b, -1)  # (B, F)
    out = torch.zeros(b, b, dtype=torch.bool, device=x.device)
    if b < 2:
        return out
    wide = flat.to(torch.float64)
    weights = torch.arange(1, flat.shape[1] + 1, dtype=torch.float64, device=x.device)
    sig = torch.stack([wide.sum(1), (wide * weights).sum(1)], 1)  # (B, 2)
    _, group = torch.unique(sig, dim=0, return_inverse=True)  # (B,)
    counts = torch.bincount(group)
    for g in torch.nonzero(counts > 1).flatten().tolist():
        rows = torch.nonzero(group == g).flatten()
        for i_pos, i in enumerate(rows.tolist()):
            for j in rows[i_pos + 1 :].tolist():
                if torch.equal(flat[i], flat[j]):
                    out[i, j] = out[j, i] = True
    return out
