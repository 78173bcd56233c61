"""Training pairs: an exemplar crop and a search crop from two frames of one sequence.

As in SiamFC, each crop is scaled by its own frame's target size (the exemplar region
``s_z``; the search region ``s_z * search / exemplar``), so the network learns appearance
change between the frames, not the size change. The search crop is shifted at random by up to
``max_shift`` crop pixels and stretched by up to ``stretch``, and the labels follow the shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from siamkit.apps.tracking.crops import context_size, crop, to_tensor
from siamkit.apps.tracking.sequence import TrackingSequence


class PairBatch(NamedTuple):
    """A batch of training pairs."""

    exemplars: torch.Tensor  # (B, 3, e, e)
    searches: torch.Tensor  # (B, 3, s, s)
    offsets: torch.Tensor  # (B, 2) target position in the search crop, pixels from its centre


def sample_pairs(
    sequences: Sequence[TrackingSequence],
    rng: np.random.Generator,
    batch: int,
    exemplar_size: int,
    search_size: int,
    max_gap: int = 20,
    max_shift: float = 8.0,
    stretch: float = 0.05,
    context: float = 0.5,
) -> PairBatch:
    """Draw ``batch`` pairs: a random sequence, frames ``i`` and ``j`` at most ``max_gap`` apart.

    Example (two generated sequences: digits moving over random noise):
        >>> from siamkit.apps.tracking.generator import digit_sequences
        >>> seqs = digit_sequences(count=2)  # digits over noise, 10 frames
        >>> b = sample_pairs(seqs, np.random.default_rng(0), 8, 63, 127)
        >>> b.exemplars.shape, b.searches.shape, b.offsets.shape
        (torch.Size([8, 3, 63, 63]), torch.Size([8, 3, 127, 127]), torch.Size([8, 2]))
    """
    zs, xs, offsets = [], [], []
    for _ in range(batch):
        seq = sequences[int(rng.integers(len(sequences)))]
        T = len(seq)
        i = int(rng.integers(T))
        j = int(np.clip(i + rng.integers(-max_gap, max_gap + 1), 0, T - 1))
        bi, bj = seq.boxes[i], seq.boxes[j]
        fi = to_tensor(seq.frame(i))
        fj = fi if j == i else to_tensor(seq.frame(j))
        ci = (float(bi[0] + bi[2] / 2), float(bi[1] + bi[3] / 2))
        zs.append(crop(fi, ci, [context_size(bi[2], bi[3], context)], exemplar_size)[0])
        x_size = context_size(bj[2], bj[3], context) * search_size / exemplar_size
        x_size *= float(np.exp(rng.uniform(-1, 1) * np.log1p(stretch)))
        shift = rng.uniform(-max_shift, max_shift, 2)  # target offset in crop pixels
        cj = bj[:2] + bj[2:] / 2 - shift * x_size / search_size  # crop centre in the frame
        xs.append(crop(fj, (float(cj[0]), float(cj[1])), [x_size], search_size)[0])
        offsets.append(shift)
    return PairBatch(
        torch.stack(zs), torch.stack(xs), torch.as_tensor(np.stack(offsets), dtype=torch.float32)
    )
