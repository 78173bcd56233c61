"""siamkit: similarity learning with Siamese networks.

The public names below are imported on first use (PEP 562), so ``import siamkit.runtime``
(the torch-free ONNX runtime) does not import torch.

Example:
    >>> from siamkit import TrainConfig, load_run, train
    >>> config = TrainConfig(data="digits", epochs=1, widths=[8, 16], out="runs/tiny")
    >>> result = train(config, progress=False)  # digits 0-4; 5-9 are kept for evaluation
    >>> result.run_dir.name, result.best_epoch
    ('tiny', 1)
    >>> load_run("runs/tiny").model.embedding_dim
    64
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siamkit.lazy import Exports, exported_names, lazy_export

if TYPE_CHECKING:
    from siamkit.distances import DISTANCES, Distance, get_distance
    from siamkit.losses import ContrastiveLoss, TripletLoss, get_loss
    from siamkit.models import ConvEncoder, MLPEncoder, SiameseNetwork, build_encoder
    from siamkit.training import TrainConfig, load_run, train

__version__ = "0.1.0"

# submodule -> the public names imported from it on first access
_EXPORTS: Exports = {
    "distances": (
        "DISTANCES",
        "Distance",
        "get_distance",
    ),
    "losses": (
        "ContrastiveLoss",
        "TripletLoss",
        "get_loss",
    ),
    "models": (
        "ConvEncoder",
        "MLPEncoder",
        "SiameseNetwork",
        "build_encoder",
    ),
    "training": (
        "TrainConfig",
        "load_run",
        "train",
    ),
}
# public name -> its module
_LAZY: dict[str, str] = {n: f"siamkit.{m}" for m, names in _EXPORTS.items() for n in names}

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
    """Import a public name from its submodule on first access, then keep it here."""
    return lazy_export(__name__, _EXPORTS, name)


def __dir__() -> list[str]:
    """Module attributes, the lazily imported public names included."""
    return sorted({*globals(), *exported_names(_EXPORTS)})
