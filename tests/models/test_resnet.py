"""ResNet encoders against torchvision's numbers, and the seed notes' block arithmetic."""

from __future__ import annotations

import pytest
import torch

from unet_studio.models.blocks import BottleneckBlock, ResidualBlock
from unet_studio.models.encoders import RESNET_LAYOUTS, ResNetEncoder, Stage
from unet_studio.models.layers import ConvLayer
from unet_studio.models.registry import build_model

# torchvision.models.resnet*(): parameters without the final fc layer.
TORCHVISION_WITHOUT_FC = {
    "resnet18": 11_176_512,
    "resnet34": 21_284_672,
    "resnet50": 23_508_032,
    "resnet101": 42_500_160,
    "resnet152": 58_143_808,
}


@pytest.mark.parametrize("name", TORCHVISION_WITHOUT_FC)
def test_encoder_parameter_count_equals_torchvision(name):
    with torch.device("meta"):  # counting needs no memory or initialisation
        encoder = ResNetEncoder(RESNET_LAYOUTS[name], spatial_dims=2, in_channels=3)
    assert sum(p.numel() for p in encoder.parameters()) == TORCHVISION_WITHOUT_FC[name]


def test_resnet_unet_exposes_its_encoder_with_the_standard_width():
    with torch.device("meta"):
        net = build_model("resnet50_unet", in_channels=3)
    assert isinstance(net.encoder, ResNetEncoder)
    assert net.config.base_channels == 64
    assert sum(p.numel() for p in net.encoder.parameters()) == TORCHVISION_WITHOUT_FC["resnet50"]


@pytest.mark.parametrize("name, channels", [
    ("resnet18", (64, 64, 128, 256, 512)),
    ("resnet50", (64, 256, 512, 1024, 2048)),
])
def test_stages_publish_channels_and_strides(name, channels):
    with torch.device("meta"):
        encoder = ResNetEncoder(RESNET_LAYOUTS[name], spatial_dims=2)
    assert encoder.stages == tuple(Stage(c, 2 ** (i + 1)) for i, c in enumerate(channels))


def test_published_stages_match_the_feature_maps():
    encoder = ResNetEncoder(RESNET_LAYOUTS["resnet34"], spatial_dims=3, in_channels=1,
                            base_channels=2, depth=3)
    features = encoder(torch.randn(2, 1, 32, 32, 32))
    assert [(f.shape[1], 32 // f.shape[-1]) for f in features] == \
        [(s.channels, s.stride) for s in encoder.stages]


def test_layouts_are_data():
    assert RESNET_LAYOUTS["resnet50"].block == "bottleneck"
    assert RESNET_LAYOUTS["resnet50"].blocks_per_stage == (3, 4, 6, 3)
    assert RESNET_LAYOUTS["resnet152"].blocks_per_stage == (3, 8, 36, 3)
    assert RESNET_LAYOUTS["resnet34"].block == "basic"


def _conv_weights(module) -> int:
    return sum(m.conv.weight.numel() for m in module.modules() if isinstance(m, ConvLayer))


def test_seed_note_arithmetic_plain_conv_versus_bottleneck():
    plain = ConvLayer(2, 64, 128, 3, norm="none", bias=False)
    assert _conv_weights(plain) == 73_728  # 64 * 3 * 3 * 128
    block = BottleneckBlock(2, 64, 128, norm="none", bias=False)  # 64 → 32 → 32 → 128
    assert _conv_weights(block.main) == 2_048 + 9_216 + 4_096 == 15_360
    assert sum(p.numel() for p in block.main.parameters()) == 15_360


def test_projection_shortcut_only_where_channels_or_stride_change():
    same = ResidualBlock(2, 16, 16)
    wider = ResidualBlock(2, 16, 32)
    strided = BottleneckBlock(2, 64, 64, stride=2)
    assert isinstance(same.shortcut, torch.nn.Identity)
    assert _conv_weights(wider.shortcut) == 16 * 32
    assert strided(torch.randn(2, 64, 8, 8)).shape == (2, 64, 4, 4)


def test_bottleneck_block_in_the_decoder():
    net = build_model("resnet18_unet", base_channels=8, decoder_block="bottleneck")
    blocks = [level.block for level in net.decoder.levels]
    assert all(isinstance(b, BottleneckBlock) for b in blocks)
    assert net(torch.randn(2, 1, 64, 32)).shape == (2, 3, 64, 32)
