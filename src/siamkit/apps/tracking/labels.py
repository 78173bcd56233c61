"""SiamFC's training target: the logistic loss on a response map with balanced weights.

Bertinetto et al. 2016, section 2.2: a response cell is positive (+1) when it lies within
``radius`` pixels (in the search crop) of the target's position, negative otherwise; the loss is
the mean logistic loss ``log(1 + exp(-y v))`` with positives and negatives weighted so each side
counts half (there are far more negatives).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def response_labels(
    size: int, stride: int, radius: float, offsets: torch.Tensor | None = None, batch: int = 1
) -> torch.Tensor:
    """Binary labels ``(B, 1, size, size)``: 1 within ``radius`` pixels of the target, else 0.

    Args:
        size: Response-map side ``r``.
        stride: Encoder stride (pixels of the search crop per response cell).
        radius: Positive radius in search-crop pixels (SiamFC: 16 px at stride 8, 2 cells).
        offsets: ``(B, 2)`` target position ``(dx, dy)`` in search-crop pixels relative to the
            crop centre; default zero (the target centred).
        batch: ``B`` when ``offsets`` is None.

    Example:
        >>> response_labels(5, 4, 4.0)[0, 0]
        tensor([[0., 0., 0., 0., 0.],
                [0., 0., 1., 0., 0.],
                [0., 1., 1., 1., 0.],
                [0., 0., 1., 0., 0.],
                [0., 0., 0., 0., 0.]])
    """
    if offsets is None:
        offsets = torch.zeros(batch, 2)
    cells = torch.arange(size, dtype=torch.float32) - (size - 1) / 2  # (r,)
    dx = cells[None, None, :] * stride - offsets[:, 0, None, None]  # (B, 1, r)
    dy = cells[None, :, None] * stride - offsets[:, 1, None, None]  # (B, r, 1)
    dist = torch.sqrt(dx**2 + dy**2)  # (B, r, r)
    return (dist <= radius).float()[:, None]


def balanced_weights(labels: torch.Tensor) -> torch.Tensor:
    """Per-cell weights ``(B, 1, r, r)``: each map's positives share 1/2, negatives 1/2."""
    pos = labels.sum(dim=(1, 2, 3), keepdim=True)
    neg = labels[0].numel() - pos
    w_pos = torch.where(pos > 0, 0.5 / pos.clamp(min=1), torch.zeros_like(pos))
    w_neg = torch.where(neg > 0, 0.5 / neg.clamp(min=1), torch.zeros_like(neg))
    return labels * w_pos + (1 - labels) * w_neg


def logistic_loss(responses: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Balanced logistic loss averaged over the batch.

    Args:
        responses: ``(B, 1, r, r)`` raw scores.
        labels: ``(B, 1, r, r)`` 0/1 labels from :func:`response_labels`.

    Returns:
        Scalar ``mean_b sum_cells w * log(1 + exp(-y v))`` with ``y = 2 * label - 1``.
    """
    weights = balanced_weights(labels)
    per_cell = F.binary_cross_entropy_with_logits(responses, labels, reduction="none")
    return (weights * per_cell).sum(dim=(1, 2, 3)).mean()
