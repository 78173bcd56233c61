"""A run directory from a pretrained encoder with no training (``siamkit init``).

The result is an ordinary run (``config.json``, ``best/``, ``last/``, ``metrics.json``) that
``evaluate``, ``calibrate``, ``verify``, ``embed``, the gallery, the service and ``export``
accept. It has no threshold until ``siamkit calibrate`` fits one on labelled pairs.

Example:
    >>> init_run("runs/lite0", "efficientnet_lite0", data="fashion-mnist", eval_classes="5-9")
    PosixPath('runs/lite0')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siamkit.data.sources import NO_DATA, load_data
from siamkit.models.pretrained import is_pretrained_image, pretrained_image_defaults
from siamkit.models.spec import ModelSpec, build_model
from siamkit.run.checkpoint import save_checkpoint, write_json
from siamkit.run.config import TrainConfig, source_options
from siamkit.run.model_card import write_model_card
from siamkit.training.resume import prepare_out, write_run_config


def init_run(
    out: str | Path,
    encoder: str,
    data: str | None = None,
    eval_classes: str | None = None,
    image_size: int | None = None,
    embedding_dim: int | None = None,
    channels: int = 3,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write a run directory holding a pretrained encoder as published (no training).

    Args:
        out: The run directory to write.
        encoder: A pretrained image encoder (``efficientnet_lite0``, or ``hf:PATH`` of a
            Hugging Face image model folder).
        data: A data source whose items set the input shape (and that ``evaluate`` and
            ``calibrate`` default to); None: RGB images of ``image_size``.
        eval_classes: The data's classes ``evaluate`` defaults to; None = ``none``.
        image_size: The side images are resized to inside the model (the encoder's default:
            64 for efficientnet_lite0, the image processor's size for ``hf:PATH``).
        embedding_dim: Add a linear head to this size (random: it has not trained); None = the
            backbone's pooled features.
        channels: Input channels (1 grey, copied to RGB; 3 RGB) when ``data`` is None.
        seed: Seeds a head's random weights.
        overwrite: Replace a run already in ``out``.

    Raises:
        ValueError: Not a pretrained encoder, the weights are not installed, or ``out`` holds a
            run (without ``overwrite``).
    """
    import torch

    if not is_pretrained_image(encoder):
        raise ValueError(
            f"`siamkit init` makes a run from a pretrained encoder; '{encoder}' is not one "
            "(choose efficientnet_lite0 or hf:PATH of an image model folder, or train it with "
            "`siamkit train --encoder ...`)"
        )
    if channels not in (1, 3):
        raise ValueError(f"--channels must be 1 (grey) or 3 (RGB); got {channels}")
    defaults = pretrained_image_defaults(encoder, image_size)
    values: dict[str, Any] = {
        "encoder": encoder,
        "data": data or NO_DATA,
        "embedding_dim": embedding_dim or defaults.features,
        "train_classes": "none",
        "eval_classes": eval_classes or "none",
        "image_size": image_size,
        "seed": seed,
        "out": str(out),
        "epochs": 1,
        "refit": False,
    }
    config = TrainConfig(**values)
    size = defaults.image_size
    shape = [channels, size, size]
    if data is not None:
        shape = list(load_data(data, source_options(config), split="train").item_shape)
    spec = ModelSpec(
        encoder=encoder,
        input_shape=shape,
        kind="image",
        embedding_dim=embedding_dim or defaults.features,
        normalize=config.normalize,
        distance=config.distance,
        image_size=size,
        head=embedding_dim is not None,
    )
    torch.manual_seed(seed)
    model = build_model(spec, pretrained=True)
    model.eval()
    run_dir = Path(out)
    prepare_out(run_dir, resume=False, overwrite=overwrite)
    write_run_config(run_dir, {"train": config.model_dump(), "model": spec.model_dump()})
    record = {"epoch": 0, "pretrained": encoder, "trained": False}
    save_checkpoint(run_dir / "best", model, config, spec, record)
    save_checkpoint(run_dir / "last", model, config, spec, record)
    write_json(
        run_dir / "metrics.json",
        {"best_epoch": 0, "threshold": None, "distance": config.distance, "history": []},
    )
    write_model_card(run_dir)
    return run_dir
