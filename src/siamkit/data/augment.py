"""Random batch augmentations written with torch ops: each item of a batch gets its own draw.

Images ``(B, C, H, W)`` with values in [0, 1] get, in this order: one affine resampling that
combines a random resized crop, a small rotation and a horizontal flip (a single
``grid_sample`` call for the whole batch); brightness and contrast jitter; additive Gaussian
noise; and a final clamp to [0, 1]. Feature vectors ``(B, F)`` only get the Gaussian noise (in
the features' own units, without clamping): crops, flips, rotations and colour jitter have no
meaning for tabular data.

Every random number comes from the ``torch.Generator`` passed in, so one seed gives one output.
``two_views`` makes the two differently augmented views of each item that self-supervised
contrastive learning compares (Chen et al., "A Simple Framework for Contrastive Learning of
Visual Representations" (SimCLR), ICML 2020, whose augmentation recipe this follows).

Example:
    >>> aug = Augment()
    >>> g = torch.Generator().manual_seed(0)
    >>> v1, v2 = aug.two_views(torch.rand(8, 1, 28, 28), g)
    >>> v1.shape
    torch.Size([8, 1, 28, 28])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

PaddingMode = Literal["zeros", "border", "reflection"]


@dataclass(frozen=True)
class Augment:
    """A random augmentation of a batch; ``Augment()`` is the recipe described in the module.

    Set a transform's strength to 0 (or its switch to False) to turn it off; with every
    transform off the output equals the input exactly.

    Args:
        crop: Random resized crop (Szegedy et al., "Going Deeper with Convolutions", 2015):
            a region covering a ``scale`` fraction of the image area, with width/height ratio
            in ``ratio`` (log-uniform), resized back to ``H x W``. A region larger than the
            image along one side is clamped to that side.
        flip: Horizontal flip with probability ``flip_p``.
        rotate_degrees: Rotation angle, uniform in ``[-d, d]`` for a number ``d`` or in
            ``[lo, hi]`` for a pair; positive turns the content counter-clockwise.
        noise: Standard deviation of the additive Gaussian noise.
        brightness: Pixels multiplied by a factor uniform in ``[1 - b, 1 + b]``.
        contrast: Distance to the image's mean value multiplied by a factor uniform in
            ``[1 - c, 1 + c]``.
        scale: Range of the crop's area fraction, ``0 < lo <= hi <= 1``.
        ratio: Range of the crop's width/height ratio (in pixels), ``0 < lo <= hi``.
        flip_p: Probability of a flip when ``flip`` is on.
        padding_mode: What is sampled outside the image (rotation corners): ``zeros``,
            ``border`` or ``reflection``, as in ``torch.nn.functional.grid_sample``; with
            ``zeros`` the edge pixels are still replicated up to the image's edge, so crops
            never fade towards black.

    Example:
        >>> aug = Augment(noise=0.0)
        >>> aug(torch.rand(4, 3, 32, 32), torch.Generator().manual_seed(1)).shape
        torch.Size([4, 3, 32, 32])
    """

    crop: bool = True  # random resized crop (images only)
    flip: bool = True  # horizontal flip with probability flip_p (images only)
    rotate_degrees: float | tuple[float, float] = 15.0  # ±d, or an explicit (lo, hi) range
    noise: float = 0.05  # σ of additive Gaussian noise (images and vectors)
    brightness: float = 0.3  # multiplicative factor in [1 - b, 1 + b] (images only)
    contrast: float = 0.3  # contrast factor in [1 - c, 1 + c] (images only)
    scale: tuple[float, float] = (0.6, 1.0)  # crop area fraction range
    ratio: tuple[float, float] = (3 / 4, 4 / 3)  # crop width/height ratio range
    flip_p: float = 0.5  # probability of a flip
    padding_mode: PaddingMode = "zeros"  # what lies outside the image when resampling

    def __post_init__(self) -> None:
        lo, hi = self.scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"scale must satisfy 0 < lo <= hi <= 1, got {self.scale}")
        lo, hi = self.ratio
        if not 0.0 < lo <= hi:
            raise ValueError(f"ratio must satisfy 0 < lo <= hi, got {self.ratio}")
        if not 0.0 <= self.flip_p <= 1.0:
            raise ValueError(f"flip_p is a probability in [0, 1], got {self.flip_p}")
        if isinstance(self.rotate_degrees, tuple):
            lo, hi = self.rotate_degrees
            if not lo <= hi:
                raise ValueError(f"rotate_degrees range needs lo <= hi, got {self.rotate_degrees}")
        elif self.rotate_degrees < 0:
            raise ValueError(
                f"rotate_degrees must be >= 0 (angles are drawn in [-d, d]), got "
                f"{self.rotate_degrees}; pass a (lo, hi) pair for an explicit range"
            )
        if self.noise < 0:
            raise ValueError(f"noise is a standard deviation and must be >= 0, got {self.noise}")
        for field_name in ("brightness", "contrast"):
            value = getattr(self, field_name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{field_name} must be in [0, 1] (0 turns it off), got {value}")
        if self.padding_mode not in ("zeros", "border", "reflection"):
            raise ValueError(
                f"unknown padding_mode '{self.padding_mode}'; choose one of: border, "
                "reflection, zeros"
            )

    @property
    def rotation_range(self) -> tuple[float, float]:
        """The ``(lo, hi)`` range of rotation angles in degrees."""
        if isinstance(self.rotate_degrees, tuple):
            return (float(self.rotate_degrees[0]), float(self.rotate_degrees[1]))
        return (-float(self.rotate_degrees), float(self.rotate_degrees))

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """One random augmentation per item.

        Args:
            x: ``(B, C, H, W)`` images in [0, 1] or ``(B, F)`` feature vectors.
            generator: Source of every random number (on any device; draws are moved to
                ``x``'s device).

        Returns:
            Augmented batch of the same shape and dtype (images clamped to [0, 1]).
        """
        if not torch.is_floating_point(x):
            raise ValueError(
                f"augmentations need floating point inputs, got dtype {x.dtype}; convert "
                "images to float in [0, 1] first (x.float() / 255 for bytes)"
            )
        if x.dim() == 2:
            return self._noisy(x, generator)
        if x.dim() != 4:
            raise ValueError(
                f"augmentations take images (B, C, H, W) or vectors (B, F), got shape "
                f"{tuple(x.shape)}; add a channel axis to (B, H, W) images with x.unsqueeze(1)"
            )
        out = self._geometric(x, generator)  # (B, C, H, W)
        out = self._photometric(out, generator)
        out = self._noisy(out, generator)
        if out is x:
            return x.clone()  # nothing enabled: an exact copy
        return out.clamp(0.0, 1.0)

    def two_views(self, x: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Two independent augmentations of the same batch, for self-supervised NT-Xent.

        Args:
            x: ``(B, C, H, W)`` images in [0, 1] or ``(B, F)`` feature vectors.
            generator: Source of every random number.

        Returns:
            ``(v1, v2)``, each shaped like ``x``; ``v1[i]`` and ``v2[i]`` are a positive pair.
        """
        return self(x, generator), self(x, generator)

    def _geometric(self, x: Tensor, g: torch.Generator) -> Tensor:
        """Crop, rotation and flip as ONE affine resampling (a plain flip needs none)."""
        b, _, h, w = x.shape
        rot_lo, rot_hi = self.rotation_range
        rotate = (rot_lo, rot_hi) != (0.0, 0.0)
        flip = self.flip and self.flip_p > 0.0
        if b == 0 or not (self.crop or rotate or flip):
            return x
        flips = _uniform(b, 0.0, 1.0, g, x) < self.flip_p if flip else None  # (B,) bool
        if not (self.crop or rotate):
            assert flips is not None
            return torch.where(flips[:, None, None, None], x.flip(-1), x)

        # theta maps output coordinates in [-1, 1]² (x along W, y along H) to input ones:
        # out(p) = in(S · R⁻¹ · Fl · p + c), i.e. flip the rotated crop.
        theta = x.new_zeros(b, 2, 3)  # (B, 2, 3)
        a = torch.eye(2, dtype=x.dtype, device=x.device).expand(b, 2, 2)  # (B, 2, 2)
        if flips is not None:
            sign = 1.0 - 2.0 * flips.to(x.dtype)  # (B,) -1 where flipped
            a = a * torch.stack([sign, torch.ones_like(sign)], dim=1)[:, None, :]
        if rotate:
            rad = torch.deg2rad(_uniform(b, rot_lo, rot_hi, g, x))  # (B,)
            cos, sin = torch.cos(rad), torch.sin(rad)
            # Inverse rotation in pixel units, written in normalised units: D⁻¹ R(-θ) D with
            # D = diag(W, H), so non-square images turn without shearing.
            r_inv = torch.stack(
                [torch.stack([cos, -sin * (h / w)], dim=1), torch.stack([sin * (w / h), cos], 1)],
                dim=1,
            )  # (B, 2, 2)
            a = r_inv @ a
        if self.crop:
            area = _uniform(b, self.scale[0], self.scale[1], g, x)  # (B,) area fraction
            log_r = _uniform(b, math.log(self.ratio[0]), math.log(self.ratio[1]), g, x)
            aspect = torch.exp(log_r)  # (B,) width / height in pixels
            # crop width and height as fractions of W and H: w·h = area·W·H, w/h = aspect
            frac_w = (area * aspect * (h / w)).sqrt().clamp_max(1.0)  # (B,)
            frac_h = (area / aspect * (w / h)).sqrt().clamp_max(1.0)  # (B,)
            shift = 2.0 * _uniform(2 * b, 0.0, 1.0, g, x).view(b, 2) - 1.0  # (B, 2) in [-1, 1]
            theta[:, 0, 2] = shift[:, 0] * (1.0 - frac_w)
            theta[:, 1, 2] = shift[:, 1] * (1.0 - frac_h)
            a = torch.stack([frac_w, frac_h], dim=1)[:, :, None] * a  # S · a
        theta[:, :, :2] = a
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
        if self.padding_mode != "zeros":
            return F.grid_sample(
                x, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=False
            )
        # grid_sample's own zero padding also darkens the half-pixel rim between the outermost
        # pixel centres and the image edge, where crops sample; replicate the border there and
        # zero only what lies outside the image.
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        inside = (grid.abs() <= 1.0 + 1e-6).all(dim=-1)  # (B, H, W)
        return out * inside[:, None].to(out.dtype)

    def _photometric(self, x: Tensor, g: torch.Generator) -> Tensor:
        """Brightness, then contrast around each image's mean value."""
        b = x.shape[0]
        if self.brightness > 0.0:
            factor = _uniform(b, 1.0 - self.brightness, 1.0 + self.brightness, g, x)  # (B,)
            x = x * factor[:, None, None, None]
        if self.contrast > 0.0:
            factor = _uniform(b, 1.0 - self.contrast, 1.0 + self.contrast, g, x)  # (B,)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
            x = (x - mean) * factor[:, None, None, None] + mean
        return x

    def _noisy(self, x: Tensor, g: torch.Generator) -> Tensor:
        """Additive Gaussian noise of standard deviation ``noise``."""
        if self.noise <= 0.0:
            return x
        eps = torch.randn(x.shape, generator=g, device=g.device, dtype=x.dtype)
        return x + self.noise * eps.to(x.device)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, like: Tensor) -> Tensor:
    """``n`` draws uniform in ``[lo, hi)`` from ``g``, on ``like``'s device and dtype."""
    u = torch.rand(n, generator=g, device=g.device, dtype=like.dtype)
    return (lo + (hi - lo) * u).to(like.device)


def quarter_turns(x: Tensor, turns: Tensor) -> Tensor:
    """Each image turned counter-clockwise by ``turns[i]`` quarter turns (``k · 90°``).

    Args:
        x: ``(B, C, H, W)`` square images (``H == W``).
        turns: ``(B,)`` int64 in ``0..3``.

    Example:
        >>> quarter_turns(torch.arange(4.0).view(1, 1, 2, 2), torch.tensor([1]))[0, 0].tolist()
        [[1.0, 3.0], [0.0, 2.0]]
    """
    if x.dim() != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"quarter turns need square images (B, C, H, H); got {tuple(x.shape)} "
            "(resize them square, e.g. --image-size)"
        )
    if turns.shape != x.shape[:1]:
        raise ValueError(f"one turn count per image: {tuple(turns.shape)} for {len(x)} images")
    out = x.clone()
    for k in range(1, 4):
        rows = (turns % 4 == k).nonzero().flatten()
        if len(rows):
            out[rows] = torch.rot90(x[rows], k, dims=(2, 3))
    return out
