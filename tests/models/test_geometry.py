"""Receptive field, halo and size rules: the symbolic geometry against the real network.

How the receptive field is measured: all weights are set to random *positive* values and all
biases to zero, the network runs in float64 in eval mode, and impulses are fed at one
period (``size_divisor``) of consecutive positions. Every intermediate value is then
non-negative and a sum of non-negative terms, so an output is non-zero exactly where the
impulse can reach it: max-pooling, ReLU and the additive skips cannot cancel a
contribution. (With signed random weights a linear network would do too, but max-pooling
would hide inputs that lose the max; positive weights make the measurement exact for
max-pooling as well.) Activations are "identity" (linear) unless stated.
"""

from __future__ import annotations

import math

import pytest
import torch

from unet_studio.models.geometry import SizeRule
from unet_studio.models.registry import build_model
from unet_studio.models.trace import AxisGeometry, GeometryError, Trace, upsample_axis, window_axis


def positive_weights(net, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() > 1:  # conv kernels; scaled by fan-in to keep float64 magnitudes tame
                fan_in = p[0].numel()
                p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) * 0.9 + 0.1)
                p.div_(fan_in)
            elif name.endswith("bias"):
                p.zero_()
    return net.double().eval()


def measured_offsets(net, axis: int) -> tuple[int, int]:
    """Extreme input offsets (relative to an output pixel's own input pixel) that reach it."""
    dims, divisor = net.spatial_dims, net.size_divisor[axis]
    side = net.valid_input_shape((4 * max(net.receptive_field) + 2 * divisor,) * dims)
    out_shape = net.output_shape(side)
    centre = [s // 2 // divisor * divisor for s in side]
    x = torch.zeros(divisor, net.in_channels, *side, dtype=torch.float64)
    positions = []
    for b in range(divisor):
        index = list(centre)
        index[axis] += b
        x[(b, 0, *index)] = 1.0
        positions.append(index[axis])
    with torch.no_grad():
        y = net(x)
    offset = (side[axis] - out_shape[axis]) // 2  # output q corresponds to input q + offset
    other_axes = (1, *[a + 2 for a in range(dims) if a != axis])  # channels, other spatial axes
    reached = (y != 0).any(dim=other_axes)  # (batch, output positions along axis)
    lows, highs = [], []
    for b, p in enumerate(positions):
        qs = torch.nonzero(reached[b]).flatten()
        assert 0 < qs.min() and qs.max() < out_shape[axis] - 1, "measurement hit the border"
        lows.append(p - (offset + int(qs.max())))
        highs.append(p - (offset + int(qs.min())))
    return min(lows), max(highs)


RF_CASES = {
    "unet-maxpool-transpose": ("unet", dict(depth=3)),
    "unet-conv-linear": ("unet", dict(depth=3, down="conv", up="linear")),
    "unet-valid-maxpool-linear": ("unet", dict(depth=2, padding="valid", up="linear")),
    "unet-valid-relu": ("unet", dict(depth=3, padding="valid", activation="relu")),
    "residual-valid": ("residual_unet", dict(depth=2, padding="valid", down="conv")),
    "attention-compress": ("attention_unet", dict(depth=2, skip_compress=True)),
    "bottleneck-decoder": ("unet", dict(depth=2, decoder_block="bottleneck", up="linear")),
    "bridge-blocks": ("unet", dict(depth=2, bridge_residual_blocks=2)),
    "unet++": ("unet_plus_plus", dict(depth=3)),
    "unet++-valid": ("unet_plus_plus", dict(depth=2, padding="valid", up="linear")),
    "resnet18": ("resnet18_unet", dict(base_channels=2)),
    "resnet50-linear": ("resnet50_unet", dict(base_channels=2, depth=2, up="linear")),
}


@pytest.mark.parametrize("case", RF_CASES)
def test_receptive_field_matches_the_impulse_response_1d(case):
    name, options = RF_CASES[case]
    options = {"base_channels": 2, "norm": "none", "activation": "identity", **options}
    net = positive_weights(build_model(name, spatial_dims=1, **options))
    lo, hi = measured_offsets(net, 0)
    geometry = net.geometry
    assert (lo, hi) == (geometry.receptive_lo[0], geometry.receptive_hi[0])
    assert net.receptive_field == (hi - lo + 1,)


def test_receptive_field_matches_the_impulse_response_2d_on_every_axis():
    net = positive_weights(build_model("unet", base_channels=2, depth=2, norm="none",
                                       activation="identity", up="linear"))
    for axis in (0, 1):
        lo, hi = measured_offsets(net, axis)
        assert net.receptive_field[axis] == hi - lo + 1


def test_halo_is_the_radius_rounded_up_to_the_divisor():
    for name, options in RF_CASES.values():
        net = build_model(name, spatial_dims=2, **{"base_channels": 2, **options})
        g = net.geometry
        radius = max(-g.receptive_lo[0], g.receptive_hi[0])
        divisor = net.size_divisor[0]
        assert net.halo == (math.ceil(radius / divisor) * divisor,) * 2
        assert net.halo[0] - divisor < radius <= net.halo[0]


def _random_batch_norm(net, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
    return net.double().eval()


@pytest.mark.parametrize("name, options", [
    ("unet", dict(depth=2)),
    ("attention_unet", dict(depth=2, up="linear", down="conv")),
    ("resnet18_unet", dict(depth=2)),
])
def test_a_tile_with_the_halo_reproduces_the_whole_image(name, options):
    torch.manual_seed(1)
    net = _random_batch_norm(build_model(name, base_channels=4, **options))
    halo, divisor = net.halo[0], net.size_divisor[0]
    side = net.valid_input_shape((3 * halo + 4 * divisor,) * 2)[0]
    image = torch.randn(1, 1, side, side, dtype=torch.float64)
    with torch.no_grad():
        whole = net(image)
        core = slice(halo + divisor, halo + 3 * divisor)  # aligned to the divisor
        region = slice(core.start - halo, core.stop + halo)
        tile = net(image[:, :, region, region])[:, :, halo:-halo, halo:-halo]
        short = slice(core.start - halo + divisor, core.stop + halo - divisor)
        cut = net(image[:, :, short, short])[:, :, halo - divisor:divisor - halo,
                                             halo - divisor:divisor - halo]
    expected = whole[:, :, core, core]
    # float64 on the CPU sums each output in the same order whatever the input size, so the
    # tile is bit-identical; one divisor less of halo changes the core (if only slightly).
    assert torch.equal(tile, expected)
    assert not torch.equal(cut, expected)


def test_valid_padding_crops_are_the_whole_image_output():
    torch.manual_seed(2)
    net = _random_batch_norm(build_model("unet", base_channels=4, depth=2, padding="valid"))
    side = net.valid_input_shape((80, 80))
    image = torch.randn(1, 1, *side, dtype=torch.float64)
    step = net.size_divisor[0]
    with torch.no_grad():
        whole = net(image)
        part = net(image[:, :, step:, step:])
    torch.testing.assert_close(part, whole[:, :, step:, step:], rtol=1e-12, atol=1e-12)


def test_size_rule_nearest_and_accepts():
    rule = SizeRule(16, {12: 188})
    assert rule.nearest(1) == 188 and rule.nearest(570) == 572 and rule.nearest(572) == 572
    assert rule.accepts(572) and not rule.accepts(571) and not rule.accepts(172)


def test_trace_primitives():
    g = AxisGeometry(8)
    pooled = window_axis(g, 2, 2, 0)  # 2x2 max-pool: pixel j sees 2j and 2j+1
    assert (pooled.size, pooled.stride, pooled.lo, pooled.hi) == (4, 2, (0,), (1,))
    up = upsample_axis(pooled, "nearest")  # odd fine pixels sit one to the right of their source
    assert (up.size, up.stride, up.lo, up.hi) == (8, 1, (0, -1), (1, 0))
    valid = window_axis(g, 3, 1, 0)
    assert (valid.size, valid.anchor, valid.lo, valid.hi) == (6, 1, (-1,), (1,))
    with pytest.raises(GeometryError, match="misaligned|centre-aligned"):
        Trace.merge([Trace.of_shape((8,)), Trace.of_shape((7,))])
