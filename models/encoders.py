"""Encoders that publish their stages (channels and stride) for a decoder to be built from.

Tensors are ``(B, C, *spatial)``; ``forward`` returns one feature map per published stage,
shallow to deep. The deepest stage is the U-Net's bottleneck.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .blocks import BottleneckBlock, ResidualBlock, make_block
from .layers import ConvLayer, MaxPool


@dataclass(frozen=True)
class Stage:
    """A feature map an encoder publishes: its channels and its stride w.r.t. the input."""

    channels: int
    stride: int


@dataclass(frozen=True)
class ResNetLayout:
    """A ResNet depth as data: the residual block type and the number of blocks per stage."""

    block: str  # "basic" (two 3x3 convs) or "bottleneck" (1x1 → 3x3 → 1x1, 4x expansion)
    blocks_per_stage: tuple[int, int, int, int]

    @property
    def expansion(self) -> int:
        return BottleneckBlock.expansion if self.block == "bottleneck" else 1


RESNET_LAYOUTS = {
    "resnet18": ResNetLayout("basic", (2, 2, 2, 2)),
    "resnet34": ResNetLayout("basic", (3, 4, 6, 3)),
    "resnet50": ResNetLayout("bottleneck", (3, 4, 6, 3)),
    "resnet101": ResNetLayout("bottleneck", (3, 4, 23, 3)),
    "resnet152": ResNetLayout("bottleneck", (3, 8, 36, 3)),
}


class PlainEncoder(nn.Module):
    """The U-Net contracting path: ``depth + 1`` levels, level ``i`` at stride ``2**i`` with
    ``base_channels * 2**i`` channels. Each level after the first down-samples (2x2 max-pool
    or 2x2 stride-2 conv) and then runs a block; the last level (two convs at the widest
    width) is the bottleneck.
    """

    def __init__(self, spatial_dims: int, in_channels: int, base_channels: int, depth: int, *,
                 block: str = "conv", down: str = "maxpool", padding: str = "same",
                 norm: str = "batch", activation: str = "relu"):
        super().__init__()
        kw = dict(padding=padding, norm=norm, activation=activation)
        widths = [base_channels * 2**level for level in range(depth + 1)]
        self.stages = tuple(Stage(w, 2**level) for level, w in enumerate(widths))
        self.levels = nn.ModuleList([make_block(block, spatial_dims, in_channels, widths[0], **kw)])
        for previous, width in zip(widths, widths[1:]):
            if down == "maxpool":
                downsample = MaxPool(spatial_dims, 2, 2, padding=padding)
            else:
                downsample = ConvLayer(spatial_dims, previous, previous, 2, stride=2, **kw)
            block_ = make_block(block, spatial_dims, previous, width, **kw)
            self.levels.append(nn.Sequential(downsample, block_))

    def forward(self, x) -> list:
        features = []
        for level in self.levels:
            x = level(x)
            features.append(x)
        return features


class ResNetEncoder(nn.Module):
    """A ResNet without its classifier: 7x7 stride-2 stem conv, 3x3 stride-2 max-pool, then
    ``depth`` stages of residual blocks (stride 2 at the start of every stage but the first).

    Published stages: the stem output (stride 2, ``base_channels``) and each stage's output
    (strides 4, 8, 16, 32). With ``base_channels=64``, 2D and 3 input channels, the parameter
    counts equal torchvision's ``resnet*`` without ``fc``.
    """

    def __init__(self, layout: ResNetLayout, spatial_dims: int, in_channels: int = 3,
                 base_channels: int = 64, depth: int = 4, *, norm: str = "batch",
                 activation: str = "relu"):
        super().__init__()
        self.layout = layout
        self.stem = ConvLayer(spatial_dims, in_channels, base_channels, 7, stride=2, norm=norm,
                              activation=activation)
        self.pool = MaxPool(spatial_dims, 3, 2)
        stages = [Stage(base_channels, 2)]
        channels = base_channels
        self.layers = nn.ModuleList()
        for index, count in enumerate(layout.blocks_per_stage[:depth]):
            width = base_channels * 2**index
            stride = 1 if index == 0 else 2
            blocks = []
            for b in range(count):
                blocks.append(self._block(spatial_dims, channels, width, stride if b == 0 else 1,
                                          norm=norm, activation=activation))
                channels = width * layout.expansion
            self.layers.append(nn.Sequential(*blocks))
            stages.append(Stage(channels, 2 ** (index + 2)))
        self.stages = tuple(stages)

    def _block(self, spatial_dims, in_channels, width, stride, **kw) -> nn.Module:
        if self.layout.block == "bottleneck":
            return BottleneckBlock(spatial_dims, in_channels, width * self.layout.expansion,
                                   stride=stride, inner_channels=width, **kw)
        return ResidualBlock(spatial_dims, in_channels, width, stride=stride, **kw)

    def forward(self, x) -> list:
        x = self.stem(x)
        features = [x]
        x = self.pool(x)
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features
