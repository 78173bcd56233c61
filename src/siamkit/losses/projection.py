"""A training-only projection head in front of a loss (Chen et al., "A Simple Framework for
Contrastive Learning of Visual Representations" (SimCLR), ICML 2020, section 4.2).

The loss is computed on ``g(f(x))``, where ``g`` is a small MLP that lives in the loss and is
thrown away after training; the model's embedding ``f(x)`` is what is stored, compared and
exported. SimCLR found the representation before ``g`` markedly better for other tasks than
the one after it: ``g`` can discard what the training objective does not reward, so ``f`` keeps
more of what classes never trained on need.

``--projection H`` wraps the configured loss: ``g`` is Linear(D, H) - ReLU - Linear(H, D), and
its output is L2-normalised when the model's embeddings are.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from siamkit.losses.base import WrappedLoss, mlp_head


class ProjectedLoss(WrappedLoss):
    """``loss(g(embeddings), labels)`` with a learned MLP ``g`` that only training uses.

    Args:
        loss: A loss that takes ``(embeddings, labels)`` (and optionally ``inputs_equal``).
        embedding_dim: ``D``, the model's embedding size (``g`` maps ``D`` to ``D``).
        hidden: ``H``, the width of ``g``'s hidden layer.
        normalize: L2-normalise ``g``'s output (as the model's embeddings are by default).

    Example:
        >>> import torch
        >>> from siamkit.losses import get_loss
        >>> loss = ProjectedLoss(get_loss("multi_similarity"), embedding_dim=16, hidden=32)
        >>> loss(torch.randn(8, 16), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])).shape
        torch.Size([])
    """

    def __init__(
        self, loss: nn.Module, embedding_dim: int, hidden: int, normalize: bool = True
    ) -> None:
        super().__init__(loss)
        what = "a projection head (--projection takes the hidden width, e.g. 256)"
        self.head = mlp_head(embedding_dim, hidden, embedding_dim, what)
        self.normalize = normalize

    def forward(
        self,
        embeddings: Tensor,
        labels: Tensor,
        inputs_equal: Tensor | None = None,
        roles: Tensor | None = None,
    ) -> Tensor:
        """The wrapped loss on the projected batch.

        Args:
            embeddings: ``(B, D)`` the model's embeddings.
            labels: ``(B,)`` class labels.
            inputs_equal: Optional ``(B, B)`` bool marking identical inputs, passed on to a
                loss that takes it.
            roles: Optional ``(B,)`` 0 (anchor) / 1 (response), passed on likewise.
        """
        if embeddings.dim() != 2 or embeddings.shape[1] != self.head[0].in_features:
            raise ValueError(
                f"the projection head takes (B, {self.head[0].in_features}) embeddings; got "
                f"{tuple(embeddings.shape)} (set --projection with the model's embedding_dim)"
            )
        z = self.head(embeddings)  # (B, D)
        if self.normalize:
            z = F.normalize(z, dim=1)
        return self.inner(z, labels, inputs_equal, roles)

    def extra_repr(self) -> str:
        return f"hidden={self.head[0].out_features}, normalize={self.normalize}"
