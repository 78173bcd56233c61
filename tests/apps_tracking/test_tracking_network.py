"""Cross-correlation, crops and the network's geometry against plain loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from siamkit.apps.tracking.crops import context_size, crop, to_tensor
from siamkit.apps.tracking.network import SiamFC, SiamFCEncoder, xcorr


def _loop_xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    B, hz, wz = x.shape[0], z.shape[2], z.shape[3]
    ho, wo = x.shape[2] - hz + 1, x.shape[3] - wz + 1
    out = torch.zeros(B, 1, ho, wo, dtype=torch.float64)
    for b in range(B):
        zb = z[b if z.shape[0] > 1 else 0]
        for i in range(ho):
            for j in range(wo):
                out[b, 0, i, j] = (zb * x[b, :, i : i + hz, j : j + wz]).sum()
    return out


@pytest.mark.parametrize("batch_z", [3, 1])
def test_xcorr_matches_a_plain_loop(batch_z: int) -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(batch_z, 4, 3, 2, generator=g, dtype=torch.float64)
    x = torch.randn(3, 4, 7, 6, generator=g, dtype=torch.float64)
    got = xcorr(z, x)
    assert got.shape == (3, 1, 5, 5)
    torch.testing.assert_close(got, _loop_xcorr(z, x))


def test_xcorr_refuses_unpaired_batches() -> None:
    with pytest.raises(ValueError, match="do not pair"):
        xcorr(torch.ones(2, 4, 3, 3), torch.ones(3, 4, 5, 5))


def test_crop_at_native_size_copies_pixels() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    image = to_tensor(frame)
    # centre (20.5, 15.5) with side 9: pixels 16..24 (x) and 11..19 (y)
    got = crop(image, (20.5, 15.5), [9.0], 9)[0]
    torch.testing.assert_close(got, image[:, 11:20, 16:25])


def test_crop_outside_the_frame_takes_the_fill_colour() -> None:
    image = torch.rand(3, 10, 10)
    fill = torch.tensor([0.1, 0.2, 0.3])
    got = crop(image, (-50.0, -50.0), [8.0, 16.0], 8, fill)
    assert got.shape == (2, 3, 8, 8)
    torch.testing.assert_close(got, fill[None, :, None, None].expand(2, 3, 8, 8))


def test_context_size_is_the_paper_formula() -> None:
    w, h = 30.0, 10.0
    p = (w + h) / 4
    assert context_size(w, h) == pytest.approx(np.sqrt((w + 2 * p) * (h + 2 * p)))


def test_encoder_is_shift_equivariant_so_the_centre_cell_means_no_shift() -> None:
    torch.manual_seed(0)
    net = SiamFC(SiamFCEncoder((4, 8, 8, 8))).eval()
    assert net.response_size == 17
    x = torch.rand(1, 3, 127 + 8, 127 + 8)
    with torch.no_grad():
        a = net.embed(x[:, :, :127, :127])
        b = net.embed(x[:, :, 8:, 8:])  # shifted by 8 px = 2 cells
    torch.testing.assert_close(a[:, :, 2:, 2:], b[:, :, :-2, :-2], atol=1e-5, rtol=1e-4)


def test_search_minus_exemplar_must_be_a_stride_multiple() -> None:
    with pytest.raises(ValueError, match="multiple of the encoder stride"):
        SiamFC(exemplar_size=63, search_size=126)
