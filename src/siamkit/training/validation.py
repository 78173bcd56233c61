"""Validation during training: the metrics of the model on the split carved from the
training classes, once per epoch; under ``torchrun`` the processes share the embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from siamkit.data.labelled import LabelledData
from siamkit.dist import is_main
from siamkit.evaluation.evaluate import EvalMetrics, evaluate_model
from siamkit.models.embed import embed_all
from siamkit.models.siamese import SiameseNetwork
from siamkit.run.config import TrainConfig
from siamkit.training.distributed import sync_buffers


def validate(
    model: SiameseNetwork,
    val: LabelledData | None,
    config: TrainConfig,
    device: torch.device,
    world: int,
) -> EvalMetrics | None:
    """Validation metrics on rank 0 (None elsewhere, or without validation data); under
    ``torchrun`` every process embeds a share of the items and rank 0 scores them once.

    Args:
        model: The network validated and saved (the weights' moving average, if any).
        val: The validation split, or None.
        config: The run's settings (``val_pairs`` and ``seed`` pick the scored pairs).
        device: Where the model runs.
        world: How many processes train (every one must call this).
    """
    if val is None:
        return None
    if world == 1:
        return evaluate_model(
            model, val, num_pairs=config.val_pairs, seed=config.seed, device=device
        )
    sync_buffers(model)  # every process embeds with rank 0's model, the one saved
    emb = embed_all(model, val.x, device=device, distributed=True)  # (N, D), on every rank
    if not is_main():
        return None
    given = SiameseNetwork(nn.Identity(), model.distance)  # scores the embeddings as they are
    scored = LabelledData(emb, val.y, val.class_names, "vector")
    return evaluate_model(given, scored, num_pairs=config.val_pairs, seed=config.seed)
