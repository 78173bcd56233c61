"""Augment against torch.flip, torch.rot90, the identity and measured noise statistics."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from siamkit.data.augment import Augment

# Every transform off; tests switch on the one they check with dataclasses.replace.
OFF = Augment(crop=False, flip=False, rotate_degrees=0.0, noise=0.0, brightness=0.0, contrast=0.0)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(b: int = 6, c: int = 3, h: int = 12, w: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, c, h, w, generator=_gen(seed))


def test_default_keeps_shape_dtype_and_range() -> None:
    for x in (_images(), _images(5, 1, 28, 20), torch.ones(4, 1, 8, 8), torch.zeros(4, 3, 8, 8)):
        y = Augment()(x, _gen(1))
        assert y.shape == x.shape and y.dtype == x.dtype
        assert y.min() >= 0.0 and y.max() <= 1.0
        assert not torch.equal(y, x)


def test_identity_when_every_transform_is_off() -> None:
    x = _images()
    y = OFF(x, _gen())
    assert torch.equal(y, x)
    assert y is not x  # a copy, safe to modify


def test_flip_with_probability_one_equals_torch_flip() -> None:
    x = _images()
    y = replace(OFF, flip=True, flip_p=1.0)(x, _gen())
    assert torch.equal(y, torch.flip(x, dims=(-1,)))


def test_flip_inside_the_affine_resampling_equals_torch_flip() -> None:
    # a full-image crop forces the grid_sample path, which then carries the flip
    x = _images()
    aug = replace(OFF, crop=True, flip=True, flip_p=1.0, scale=(1, 1), ratio=(1, 1))
    torch.testing.assert_close(aug(x, _gen()), torch.flip(x, dims=(-1,)), atol=1e-5, rtol=0)


def test_flip_is_drawn_per_item() -> None:
    x = _images(b=64)
    y = replace(OFF, flip=True)(x, _gen())
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(64)]
    kept = [torch.equal(y[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54


def test_full_crop_with_square_aspect_is_the_identity() -> None:
    x = _images()
    aug = replace(OFF, crop=True, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    torch.testing.assert_close(aug(x, _gen()), x, atol=1e-5, rtol=0)


def test_full_crop_of_a_wide_image_with_its_own_aspect_is_the_identity() -> None:
    x = _images(h=8, w=16)
    aug = replace(OFF, crop=True, scale=(1.0, 1.0), ratio=(2.0, 2.0))
    torch.testing.assert_close(aug(x, _gen()), x, atol=1e-5, rtol=0)


def test_crops_stay_inside_the_image_and_do_not_fade_at_the_edges() -> None:
    # a constant image stays constant: no zero padding leaks into a crop
    x = torch.full((32, 1, 28, 28), 0.7)
    aug = replace(OFF, crop=True, scale=(0.2, 1.0), ratio=(0.3, 3.0))
    torch.testing.assert_close(aug(x, _gen()), x, atol=1e-5, rtol=0)


def test_crop_with_a_quarter_area_zooms_by_two() -> None:
    # a horizontal ramp: a crop of half the width doubles the slope
    w = 32
    ramp = (torch.arange(w, dtype=torch.float32) / w).expand(4, 1, w, w).contiguous()
    aug = replace(OFF, crop=True, scale=(0.25, 0.25), ratio=(1.0, 1.0))
    y = aug(ramp, _gen())
    slope = (y[..., 1:] - y[..., :-1])[..., 2:-2, 2:-2]  # interior columns
    torch.testing.assert_close(slope, torch.full_like(slope, 0.5 / w), atol=1e-5, rtol=0)


@pytest.mark.parametrize(("angle", "k"), [(90.0, 1), (-90.0, -1), (180.0, 2)])
def test_rotation_by_right_angles_equals_rot90(angle: float, k: int) -> None:
    x = _images(h=10, w=10)
    aug = replace(OFF, rotate_degrees=(angle, angle))
    want = torch.rot90(x, k, dims=(-2, -1))  # positive k: counter-clockwise
    torch.testing.assert_close(aug(x, _gen()), want, atol=1e-5, rtol=0)


def test_rotation_of_a_wide_image_keeps_pixels_square() -> None:
    # 90° about the centre of an 8x16 image: the central 8x8 square turns like rot90
    x = _images(h=8, w=16)
    y = replace(OFF, rotate_degrees=(90.0, 90.0))(x, _gen())
    want = torch.rot90(x[..., 4:12], 1, dims=(-2, -1))
    torch.testing.assert_close(y[..., 4:12], want, atol=1e-5, rtol=0)
    assert torch.equal(y[..., :3], torch.zeros_like(y[..., :3]))  # outside: zero fill


def test_rotation_corners_are_zero_or_replicated_border() -> None:
    x = torch.full((1, 1, 16, 16), 0.6)
    zeros = replace(OFF, rotate_degrees=(45.0, 45.0))(x, _gen())
    assert zeros[0, 0, 0, 0] == 0.0 and zeros[0, 0, 8, 8] == pytest.approx(0.6)
    border = replace(OFF, rotate_degrees=(45.0, 45.0), padding_mode="border")
    torch.testing.assert_close(border(x, _gen()), x)


def test_noise_std_matches_sigma() -> None:
    x = torch.full((512, 1, 28, 28), 0.5)
    y = replace(OFF, noise=0.05)(x, _gen())
    diff = y - x
    assert diff.std().item() == pytest.approx(0.05, rel=0.02)
    assert abs(diff.mean().item()) < 1e-3


def test_brightness_and_contrast_factors() -> None:
    x = _images(b=256, c=1, h=6, w=6)
    y = replace(OFF, brightness=0.3)(x, _gen())
    ratio = y.flatten(1) / x.flatten(1).clamp_min(1e-3)
    keep = (y.flatten(1) < 1.0) & (x.flatten(1) > 1e-2)  # not clamped
    factors = torch.stack([ratio[i][keep[i]].median() for i in range(256)])
    assert factors.min() >= 0.7 - 1e-4 and factors.max() <= 1.3 + 1e-4
    assert factors.max() - factors.min() > 0.4  # drawn per item

    flat = torch.full((2, 1, 4, 4), 0.4)
    flat[:, :, :, :2] = 0.6
    y = replace(OFF, contrast=0.3)(flat, _gen())
    spread = y[:, 0, 0, 0] - y[:, 0, 0, 3]  # 0.2 before, scaled by the factor
    assert ((spread >= 0.2 * 0.7 - 1e-6) & (spread <= 0.2 * 1.3 + 1e-6)).all()
    torch.testing.assert_close(y.mean(dim=(1, 2, 3)), flat.mean(dim=(1, 2, 3)))


def test_same_seed_same_output_different_seed_different_output() -> None:
    x = _images()
    aug = Augment()
    assert torch.equal(aug(x, _gen(7)), aug(x, _gen(7)))
    assert not torch.equal(aug(x, _gen(7)), aug(x, _gen(8)))


def test_two_views_differ_and_are_reproducible() -> None:
    x = _images()
    aug = Augment()
    v1, v2 = aug.two_views(x, _gen(3))
    assert v1.shape == v2.shape == x.shape
    assert not torch.equal(v1, v2)
    for i in range(x.shape[0]):
        assert not torch.equal(v1[i], v2[i])
    w1, w2 = aug.two_views(x, _gen(3))
    assert torch.equal(v1, w1) and torch.equal(v2, w2)


def test_vectors_only_get_noise() -> None:
    x = torch.randn(2000, 5) * 3.0  # not in [0, 1]: no clamping
    y = Augment()(x, _gen())
    assert y.shape == x.shape
    assert (y - x).std().item() == pytest.approx(0.05, rel=0.05)
    assert torch.equal(Augment(noise=0.0)(x, _gen()), x)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match=r"got shape \(2, 8, 8\).*unsqueeze"):
        Augment()(torch.rand(2, 8, 8), _gen())
    with pytest.raises(ValueError, match=r"floating point.*torch.uint8"):
        Augment()(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), _gen())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": (0.0, 1.0)}, "scale"),
        ({"scale": (0.8, 0.6)}, "scale"),
        ({"ratio": (2.0, 1.0)}, "ratio"),
        ({"flip_p": 1.5}, "flip_p"),
        ({"rotate_degrees": -5.0}, "rotate_degrees"),
        ({"rotate_degrees": (10.0, -10.0)}, "lo <= hi"),
        ({"noise": -0.1}, "noise"),
        ({"brightness": 1.5}, "brightness"),
        ({"contrast": -0.1}, "contrast"),
        ({"padding_mode": "wrap"}, "padding_mode"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Augment(**kwargs)  # type: ignore[arg-type]


def test_empty_batch() -> None:
    assert Augment()(torch.zeros(0, 1, 8, 8), _gen()).shape == (0, 1, 8, 8)
