"""The item tower: one shared encoder maps an item's features (and id) to its embedding.

Both items of a co-interaction pair go through this same module (the Siamese twin), so two
movies liked by the same users end up close::

    z = MLP(standardize(features)) + id_embedding[id]      -> L2-normalised (B, D)

Id 0 means "no id": an item never liked on the training side, or a new one, is embedded from
its features alone. Training drops ids to 0 at random (``id_dropout``), so the feature path
learns to stand on its own (cold start).

Example:
    >>> tower = ItemTower(TowerShape(n_features=40, n_items=100))
    >>> tower(torch.zeros(4, 40), torch.tensor([1, 2, 0, 0])).shape
    torch.Size([4, 64])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.models.mlp import MLPEncoder
from siamkit.models.standardize import Standardize


@dataclass(frozen=True)
class TowerShape:
    """The tower's sizes (saved with the run to rebuild it).

    Attributes:
        n_features: ``F``, columns of a feature row.
        n_items: Catalogue size; ids run 1..I (0 = none).
        embedding_dim: ``D``.
        hidden: Hidden layer sizes of the feature MLP.
        id_embedding: Whether a learned per-item vector is added.
    """

    n_features: int
    n_items: int
    embedding_dim: int = 64
    hidden: tuple[int, ...] = (256,)
    id_embedding: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TowerShape:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(d["n_features"]),
            int(d["n_items"]),
            int(d["embedding_dim"]),
            tuple(int(h) for h in d["hidden"]),
            bool(d["id_embedding"]),
        )


class ItemTower(nn.Module):
    """Features ``(B, F)`` and ids ``(B,)`` -> L2-normalised embeddings ``(B, D)``.

    Args:
        shape: Sizes.
        mean: ``(F,)`` feature means for the standardisation (default 0).
        std: ``(F,)`` feature standard deviations (default 1).
    """

    def __init__(self, shape: TowerShape, mean: Tensor | None = None, std: Tensor | None = None):
        super().__init__()
        self.shape = shape
        f = shape.n_features
        self.standardize = Standardize(
            torch.zeros(f) if mean is None else mean, torch.ones(f) if std is None else std
        )
        self.features = MLPEncoder(f, shape.embedding_dim, shape.hidden)
        self.ids: nn.Embedding | None = None
        if shape.id_embedding:
            self.ids = nn.Embedding(shape.n_items + 1, shape.embedding_dim, padding_idx=0)
            nn.init.normal_(self.ids.weight, std=0.01)
            with torch.no_grad():
                self.ids.weight[0].zero_()

    def forward(self, x: Tensor, ids: Tensor | None = None) -> Tensor:
        """Embed items; ``ids`` (1-based item index, 0 = none) may be None: features only."""
        z = self.features(self.standardize(x))  # (B, D)
        if self.ids is not None and ids is not None:
            z = z + self.ids(ids)  # (B, D); row 0 is zero
        return F.normalize(z, dim=1)


@torch.inference_mode()
def embed_items(
    tower: ItemTower, features: Tensor, ids: Tensor | None = None, batch_size: int = 4096
) -> Tensor:
    """``(I, D)`` embeddings of every row of ``features (I, F)`` in eval mode."""
    tower.eval()
    out = []
    for i in range(0, len(features), batch_size):
        chunk = None if ids is None else ids[i : i + batch_size]
        out.append(tower(features[i : i + batch_size], chunk))
    return torch.cat(out) if out else torch.zeros(0, tower.shape.embedding_dim)
