"""siamkit: similarity learning with Siamese networks.

The public names below are imported on first use (PEP 562), so ``import siamkit.runtime``
(the torch-free ONNX runtime) does not import torch.

Example:
    >>> from siamkit import TrainConfig, train, load_run
    >>> result = train(TrainConfig(data="digits", epochs=3, out="runs/digits"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siamkit.distances import DISTANCES, Distance, get_distance
    from siamkit.losses import ContrastiveLoss, TripletLoss, get_loss
    from siamkit.models import ConvEncoder, MLPEncoder, SiameseNetwork, build_encoder
    from siamkit.training import TrainConfig, load_run, train

__version__ = "0.1.0"

# public name -> the module it is imported from on first access
_LAZY: dict[str, str] = {
    "DISTANCES": "siamkit.distances",
    "Distance": "siamkit.distances",
    "get_distance": "siamkit.distances",
    "ContrastiveLoss": "siamkit.losses",
    "TripletLoss": "siamkit.losses",
    "get_loss": "siamkit.losses",
    "ConvEncoder": "siamkit.models",
    "MLPEncoder": "siamkit.models",
    "SiameseNetwork": "siamkit.models",
    "build_encoder": "siamkit.models",
    "TrainConfig": "siamkit.training",
    "load_run": "siamkit.training",
    "train": "siamkit.training",
}

__all__ = [
    "DISTANCES",
    "ContrastiveLoss",
    "ConvEncoder",
    "Distance",
    "MLPEncoder",
    "SiameseNetwork",
    "TrainConfig",
    "TripletLoss",
    "build_encoder",
    "get_distance",
    "get_loss",
    "load_run",
    "train",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access, then keep it here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siamkit' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes, the lazily imported public names included."""
    return sorted({*globals(), *_LAZY})
