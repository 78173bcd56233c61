"""The trained tower as a gallery model: feature rows in, item embeddings out.

It satisfies :class:`siamkit.run.Embedder` (``kind = "vector"``, cosine), so the item
embeddings are enrolled in a :class:`siamkit.index.Gallery` and a new item can be enrolled from
its features alone (``gallery.enroll(features, label=...)``): the cold-start path.

Example (an untrained tower over 40 feature columns):
    >>> from siamkit.apps.recommend.tower import TowerShape
    >>> tower = ItemTower(TowerShape(n_features=40, n_items=100))
    >>> emb = ItemEmbedder(tower)
    >>> features = np.zeros((3, 40), dtype=np.float32)  # (N, F) rows of item_features
    >>> emb.embed(features[:2]).shape
    (2, 64)
    >>> emb.kind, emb.distance, emb.input_shape
    ('vector', 'cosine', (40,))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch

from siamkit.apps.recommend.tower import ItemTower, embed_items
from siamkit.readers import read_vectors
from siamkit.run import fingerprint_state
from siamkit.runtime.distances import pair_distances


class ItemEmbedder:
    """Feature rows ``(N, F)`` -> ``(N, D)`` L2-normalised embeddings (no item id: features only).

    Attributes:
        kind: ``"vector"``.
        distance: ``"cosine"``.
        embedding_dim: ``D``.
        fingerprint: :func:`siamkit.run.fingerprint_weights` of the tower's weights.
        input_shape: ``(F,)``, the feature width.
        larger_is_closer, source, calibration, prepare_image: False, ``""``, None, None.
    """

    kind = "vector"
    distance = "cosine"
    larger_is_closer = False
    source = ""
    calibration = None
    prepare_image = None

    def __init__(self, tower: ItemTower) -> None:
        self.tower = tower.eval()
        self.embedding_dim = tower.shape.embedding_dim
        self.input_shape = (int(tower.shape.n_features),)
        self.fingerprint = fingerprint_state(tower.state_dict())

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed feature rows ``(N, F)`` from the features alone.

        Raises:
            ValueError: Texts, or rows of the wrong width.
        """
        x = np.asarray(inputs, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.tower.shape.n_features:
            raise ValueError(
                f"item features must be (N, {self.tower.shape.n_features}) rows made by "
                f"siamkit.apps.recommend.item_features; got shape {x.shape}"
            )
        return embed_items(self.tower, torch.from_numpy(x)).numpy().astype(np.float32)

    def load(self, sources: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        """Feature rows from ``.npy``/``.csv`` files or literal ``"0.1,2,..."`` rows."""
        return read_vectors(sources, self.input_shape[0])

    def pair_distances(
        self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Cosine distances ``(B,)`` between rows of two ``(B, D)`` arrays."""
        return pair_distances(a, b, self.distance)

    def decision_rule(self) -> None:
        """None: an item tower ranks neighbours; it has no same/different threshold."""
        return None
