"""SiamFC: one fully-convolutional encoder for exemplar and search, joined by cross-correlation.

Bertinetto et al., "Fully-Convolutional Siamese Networks for Object Tracking", ECCV-W 2016.
The encoder has no padding, so a shift of the input shifts the feature map by ``shift / stride``
cells exactly and the response map's centre cell means "no displacement". A small AlexNet-like
stack (stride 4) keeps training within minutes on a CPU: a 63-pixel exemplar gives 6x6
features, a 127-pixel search region 22x22, and their correlation a 17x17 response map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EXEMPLAR_SIZE = 63
SEARCH_SIZE = 127


def xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Cross-correlate each exemplar feature map with its search feature map.

    One grouped ``conv2d`` does the whole batch: the B search maps become ``B * C`` channels of
    one image and the B exemplars its ``B`` groups of kernels.

    Args:
        z: ``(B, C, hz, wz)`` exemplar features, or ``(1, C, hz, wz)`` for one exemplar against
            every search map (scale search).
        x: ``(B, C, hx, wx)`` search features.

    Returns:
        ``(B, 1, hx - hz + 1, wx - wz + 1)`` responses: ``out[b, 0, i, j] =
        sum_{c,u,v} z[b, c, u, v] * x[b, c, i + u, j + v]``.

    Example:
        >>> xcorr(torch.ones(2, 4, 3, 3), torch.ones(2, 4, 5, 5)).shape
        torch.Size([2, 1, 3, 3])
    """
    if z.shape[0] == 1:
        return F.conv2d(x, z)  # (B, 1, ho, wo)
    B, C, hx, wx = x.shape
    if z.shape[0] != B or z.shape[1] != C:
        raise ValueError(
            f"exemplar features {tuple(z.shape)} do not pair with search {tuple(x.shape)}"
        )
    out = F.conv2d(x.reshape(1, B * C, hx, wx), z, groups=B)  # (1, B, ho, wo)
    return out.reshape(B, 1, out.shape[-2], out.shape[-1])


class SiamFCEncoder(nn.Module):
    """Fully-convolutional encoder without padding; total stride 4.

    conv5/2 - BN - ReLU - maxpool3/2 - conv5 - BN - ReLU - conv3 - BN - ReLU - conv3 - BN.
    Inputs are RGB in [0, 1] ``(B, 3, H, W)``; outputs ``(B, widths[-1], H', W')`` with
    ``H' = (H - 63) / 4 + 6`` for ``H >= 63`` and ``H - 63`` divisible by 4.

    Example:
        >>> SiamFCEncoder()(torch.rand(1, 3, 63, 63)).shape
        torch.Size([1, 32, 6, 6])
    """

    stride = 4

    def __init__(self, widths: tuple[int, int, int, int] = (16, 32, 32, 32)) -> None:
        super().__init__()
        a, b, c, d = widths
        self.layers = nn.Sequential(
            nn.Conv2d(3, a, 5, stride=2),
            nn.BatchNorm2d(a),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(a, b, 5),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
            nn.Conv2d(b, c, 3),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, d, 3),
            nn.BatchNorm2d(d),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> ``(B, D, H', W')`` features."""
        return self.layers((images - 0.5) / 0.25)


class SiamFC(nn.Module):
    """The Siamese tracker network: ``response = scale * xcorr(f(z), f(x)) + bias``.

    Args:
        encoder: Any fully-convolutional module with an integer ``stride`` attribute;
            default :class:`SiamFCEncoder`.
        exemplar_size: Exemplar crop side in pixels.
        search_size: Search crop side in pixels (``search - exemplar`` divisible by the stride).

    Example:
        >>> net = SiamFC()
        >>> net(torch.rand(2, 3, 63, 63), torch.rand(2, 3, 127, 127)).shape
        torch.Size([2, 1, 17, 17])
    """

    def __init__(
        self,
        encoder: nn.Module | None = None,
        exemplar_size: int = EXEMPLAR_SIZE,
        search_size: int = SEARCH_SIZE,
    ) -> None:
        super().__init__()
        self.encoder = encoder if encoder is not None else SiamFCEncoder()
        self.stride = int(getattr(self.encoder, "stride", 1))
        if (search_size - exemplar_size) % self.stride:
            raise ValueError(
                f"search size {search_size} minus exemplar size {exemplar_size} must be a "
                f"multiple of the encoder stride {self.stride}, so the centre cell of the "
                "response means no displacement"
            )
        self.exemplar_size = exemplar_size
        self.search_size = search_size
        self.scale = nn.Parameter(torch.tensor(1e-3))  # SiamFC's 0.001 output scale, learnt
        self.bias = nn.Parameter(torch.zeros(()))

    @property
    def response_size(self) -> int:
        """Side of the response map."""
        return (self.search_size - self.exemplar_size) // self.stride + 1

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Features of exemplar or search crops ``(B, 3, H, W)``."""
        out: torch.Tensor = self.encoder(images)
        return out

    def respond(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Response maps ``(B, 1, r, r)`` from features (see :func:`xcorr`)."""
        return self.scale * xcorr(z, x) + self.bias

    def forward(self, exemplars: torch.Tensor, searches: torch.Tensor) -> torch.Tensor:
        """``(B, 3, e, e)`` exemplars and ``(B, 3, s, s)`` searches -> ``(B, 1, r, r)``."""
        return self.respond(self.embed(exemplars), self.embed(searches))
