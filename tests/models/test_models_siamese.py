"""The twin network: one shared encoder; encoders for images of any size and for vectors."""

from __future__ import annotations

import pytest
import torch

from siamkit.models import ENCODERS, ConvEncoder, MLPEncoder, SiameseNetwork, build_encoder
from siamkit.models.spec import ModelSpec, build_model


def test_one_parameter_set_shared_by_both_branches() -> None:
    torch.manual_seed(0)
    encoder = MLPEncoder(6, 4, hidden=(8,))
    net = SiameseNetwork(encoder, "euclidean")
    # The network owns exactly the encoder's parameters: nothing was copied.
    assert {id(p) for p in net.parameters()} == {id(p) for p in encoder.parameters()}
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in encoder.parameters())
    net.eval()
    x1, x2 = torch.randn(5, 6), torch.randn(5, 6)

    # Gradient through branch 1 only, then branch 2 only: both reach the same parameters.
    grads = []
    for branch in (0, 1):
        net.zero_grad()
        za, zb = net.embed(x1), net.embed(x2)
        (za if branch == 0 else zb).sum().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    for g1, g2 in zip(*grads, strict=True):
        assert g1.abs().sum() > 0 and g2.abs().sum() > 0
    # Through the pair distance, every weight matrix gets a gradient (a final bias cancels in
    # z1 - z2, so its gradient is exactly zero).
    net.zero_grad()
    net(x1, x2).sum().backward()
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    final_bias = net.encoder.net[-1].bias
    assert torch.allclose(final_bias.grad, torch.zeros_like(final_bias))


def test_forward_is_distance_between_embeddings() -> None:
    torch.manual_seed(0)
    net = SiameseNetwork(MLPEncoder(3, 2, hidden=()), "manhattan").eval()
    x1, x2 = torch.randn(4, 3), torch.randn(4, 3)
    with torch.no_grad():
        z1, z2 = net.embed(x1), net.embed(x2)
        got = net(x1, x2)
    expected = torch.tensor([float((z1[i] - z2[i]).abs().sum()) for i in range(4)])
    assert torch.allclose(got, expected, atol=1e-6)


def test_normalize_gives_unit_embeddings() -> None:
    net = SiameseNetwork(MLPEncoder(3, 5, hidden=(4,)), "euclidean", normalize=True).eval()
    z = net.embed(torch.randn(7, 3))
    assert torch.allclose(z.norm(dim=1), torch.ones(7), atol=1e-5)


@pytest.mark.parametrize(("channels", "h", "w"), [(1, 8, 8), (1, 28, 28), (3, 32, 20), (1, 5, 3)])
def test_conv_encoder_any_size(channels: int, h: int, w: int) -> None:
    enc = ConvEncoder(channels, embedding_dim=12, widths=(4, 8, 16)).eval()
    assert enc(torch.randn(2, channels, h, w)).shape == (2, 12)


def test_conv_encoder_layout_and_errors() -> None:
    enc = ConvEncoder(1, 64)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 32), (32, 64), (64, 128)]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in enc.modules()) == 3
    with pytest.raises(ValueError, match="expects images"):
        enc(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ConvEncoder(2, 8)


def test_registry_and_factories() -> None:
    assert ENCODERS.names() == ["conv", "efficientnet_lite0", "hf", "minilm", "mlp", "text_cnn"]
    assert isinstance(build_encoder("mlp", (2, 3), 4), MLPEncoder)
    with pytest.raises(
        ValueError, match="choose one of: conv, efficientnet_lite0, hf, minilm, mlp, text_cnn"
    ):
        build_encoder("resnet", (1, 8, 8), 4)
    with pytest.raises(ValueError, match="use --encoder mlp"):
        build_encoder("conv", (10,), 4)


def test_build_model_from_spec_standardizes_inputs() -> None:
    spec = ModelSpec(
        encoder="mlp", input_shape=[3], kind="vector", embedding_dim=2, widths=[], normalize=False
    )
    model = build_model(spec).eval()
    std = model.encoder[0]
    std.mean.copy_(torch.tensor([1.0, 2.0, 3.0]))
    std.std.copy_(torch.tensor([2.0, 2.0, 2.0]))
    x = torch.tensor([[3.0, 4.0, 5.0]])
    assert torch.allclose(std(x), torch.ones(1, 3))
    linear = model.encoder[1].net[0]
    assert torch.allclose(model.embed(x), linear(torch.ones(1, 3)), atol=1e-6)
