"""Koch's verification head as a one-shot scorer, loaded from a run trained with ``--loss koch``.

Koch et al. 2015 ("Siamese Neural Networks for One-shot Image Recognition", section 3.4) classify
a one-shot query as the support image with the highest ``p(same) = σ(w · |a - b| + c)``. The
head (:class:`~siamkit.losses.KochLoss`, saved beside the model as ``loss.safetensors``) is
wrapped here as a :class:`~siamkit.distances.Distance` whose values are the logits
``w · |a - b| + c`` (larger = more alike; the sigmoid is monotone, so the ranking is that of
``p(same)``, without float32 saturating near-certain pairs into ties). Any code that scores
with a distance object (few-shot episodes, retrieval) can then score with the head.

It is deliberately not registered in ``DISTANCES``: it exists only with a trained head.

Example (a tiny run trained with the Koch loss; runs/digits was trained with another loss):
    >>> from siamkit.training import TrainConfig, train
    >>> config = TrainConfig(
    ...     loss="koch", epochs=1, widths=[8], embedding_dim=8, refit=False, out="runs/koch"
    ... )
    >>> _ = train(config, progress=False)
    >>> load_koch_head("runs/digits") is None  # a run without a Koch head
    True
    >>> head = load_koch_head("runs/koch")
    >>> scorer = KochHeadScore(head)
    >>> scorer.pairwise(torch.zeros(2, 8), torch.ones(2, 8)).shape
    torch.Size([2])
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from siamkit.distances import Distance
from siamkit.losses.koch import KochLoss


class KochHeadScore(Distance):
    """The logit ``w · |a - b| + c`` of a trained Koch head; larger means more alike.

    Args:
        head: The trained :class:`~siamkit.losses.KochLoss` (its ``head`` layer is used).
    """

    name = "koch_head"
    larger_is_closer = True

    def __init__(self, head: KochLoss) -> None:
        self.head = head.eval()

    @torch.no_grad()
    def _paired(self, a: Tensor, b: Tensor) -> Tensor:
        return self.head.logits(a, b)  # (B,)

    @torch.no_grad()
    def _block(self, a: Tensor, b: Tensor) -> Tensor:
        w = self.head.head.weight[0]  # (D,)
        c = self.head.head.bias[0]
        rows = [(row - b).abs() @ w + c for row in a]  # each (M,)
        return torch.stack(rows) if rows else a.new_zeros((0, b.shape[0]))  # (n, M)


def load_koch_head(run_dir: str | Path, checkpoint: str = "best") -> KochLoss | None:
    """The Koch head saved with a run's checkpoint, or None when the run has none.

    Raises:
        ValueError: The run trained with ``koch`` but its head file is missing or does not fit.
    """
    import json

    from safetensors.torch import load_file

    from siamkit.run.checkpoint import LOSS_WEIGHTS

    folder = Path(run_dir) / checkpoint
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{run_dir} is not a finished siamkit run: {config_path} is missing")
    saved = json.loads(config_path.read_text())
    if saved["train"].get("loss") != "koch":
        return None
    path = folder / LOSS_WEIGHTS
    if not path.is_file():
        raise ValueError(f"run {run_dir} trained with --loss koch but {path} is missing")
    weights = load_file(str(path))
    if "head.weight" not in weights:
        raise ValueError(f"{path} holds no Koch head (keys: {', '.join(sorted(weights))})")
    head = KochLoss(embedding_dim=int(weights["head.weight"].shape[1]))
    head.load_state_dict(weights)
    return head.eval()
