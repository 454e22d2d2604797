"""U-Nets: classic, residual, attention and ResNet-encoder variants, 1D/2D/3D.

One class, :class:`UNet`; its decoder is derived from the stages its encoder publishes, so a
plain encoder and a ResNet encoder get the same decoder code. Tensors are
``(B, C, *spatial)``.
"""

from __future__ import annotations

from torch import nn

from .blocks import ResidualBlock, SkipFusion, make_block
from .config import ModelConfig
from .encoders import RESNET_LAYOUTS, PlainEncoder, ResNetEncoder, Stage
from .layers import ConvLayer, UpSample, pointwise
from .network import SegmentationNetwork
from .trace import is_trace


def build_encoder(config: ModelConfig) -> nn.Module:
    kw = dict(norm=config.norm, activation=config.activation)
    if config.is_resnet:
        return ResNetEncoder(RESNET_LAYOUTS[config.encoder], config.spatial_dims,
                             config.in_channels, config.base_channels, config.depth, **kw)
    return PlainEncoder(config.spatial_dims, config.in_channels, config.base_channels, config.depth,
                        block="residual" if config.residual else "conv", down=config.down,
                        padding=config.padding, **kw)


class Bridge(nn.Module):
    """What follows the bottleneck's two convs: optional dropout, then optional residual
    blocks at the same width. ``(B, C, *s) → (B, C, *s')``."""

    def __init__(self, channels: int, config: ModelConfig):
        super().__init__()
        self.dropout = nn.Dropout(config.dropout) if config.dropout else nn.Identity()
        self.blocks = nn.Sequential(*[
            ResidualBlock(config.spatial_dims, channels, channels, padding=config.padding,
                          norm=config.norm, activation=config.activation)
            for _ in range(config.bridge_residual_blocks)
        ])

    def forward(self, x):
        return self.blocks(pointwise(self.dropout, x))


class DecoderLevel(nn.Module):
    """Up-sample ×2 to ``width`` channels, fuse with the skips (if any), then a block.

    ``x (B, in_channels, *s)``, ``skips [(B, c_i, *2s)]`` → ``(B, width, *2s')``.
    """

    def __init__(self, in_channels: int, skip_channels: list[int], width: int,
                 config: ModelConfig):
        super().__init__()
        dims = config.spatial_dims
        kw = dict(norm=config.norm, activation=config.activation)
        self.up = UpSample(dims, in_channels, width, config.up, padding=config.padding, **kw)
        self.fusion = None
        block_in = width
        if skip_channels:
            self.fusion = SkipFusion(dims, width, skip_channels, attention=config.attention,
                                     skip_norm=config.skip_norm,
                                     compress_to=width if config.skip_compress else None, **kw)
            block_in = self.fusion.out_channels
        self.block = make_block(config.decoder_block_kind, dims, block_in, width,
                                padding=config.padding, **kw)
        self.out_channels = width

    def forward(self, x, skips: list):
        x = self.up(x)
        if self.fusion is not None:
            x = self.fusion(x, skips)
        return self.block(x)


class UNetDecoder(nn.Module):
    """Expanding path from the deepest published stage back to stride 1.

    One level per halving of the stride; a level takes the encoder stage published at its
    stride as skip, if there is one (a ResNet publishes nothing at stride 1, so its last
    level has no skip). ``widths`` maps a stride to that level's channel count.
    """

    def __init__(self, stages: tuple[Stage, ...], widths: dict[int, int], config: ModelConfig):
        super().__init__()
        index_by_stride = {stage.stride: i for i, stage in enumerate(stages[:-1])}
        channels, stride = stages[-1].channels, stages[-1].stride
        self.levels = nn.ModuleList()
        self.skip_indices: list[int | None] = []
        while stride > 1:
            stride //= 2
            skip = index_by_stride.get(stride)
            skip_channels = [stages[skip].channels] if skip is not None else []
            self.levels.append(DecoderLevel(channels, skip_channels, widths[stride], config))
            self.skip_indices.append(skip)
            channels = widths[stride]
        self.out_channels = channels
        self.level_channels = [widths[2**i] for i in range(len(self.levels))]  # shallow → deep

    def forward(self, features: list) -> list:
        """``features`` shallow → deep; returns every level's output, deep → shallow."""
        x = features[-1]
        outputs = []
        for level, skip in zip(self.levels, self.skip_indices):
            x = level(x, [features[skip]] if skip is not None else [])
            outputs.append(x)
        return outputs


def decoder_widths(config: ModelConfig, stages: tuple[Stage, ...]) -> dict[int, int]:
    """Plain encoders mirror their widths; ResNets get smp-like widths (256, 128, 64, 32, 16
    at strides 16…1 for the standard 64-wide stem) instead of their 4x-expanded ones."""
    deepest = stages[-1].stride
    if config.is_resnet:
        strides = [2**i for i in range(deepest.bit_length() - 1)]
        return {s: max(config.base_channels * s // 4, 1) for s in strides}
    return {stage.stride: stage.channels for stage in stages}


def make_head(config: ModelConfig, channels: int) -> nn.Module:
    """1x1 conv to the output logits (with bias, no norm, no activation)."""
    return ConvLayer(config.spatial_dims, channels, config.out_channels, 1, norm="none",
                     activation="identity")


class UNet(SegmentationNetwork):
    """Encoder → bridge → decoder → 1x1 head.

    Train mode with ``deep_supervision``: returns ``[main, aux...]``, the auxiliary logits of
    every decoder level but the last, highest resolution first, each at its level's
    resolution (its centred crop with ``padding="valid"``). Eval mode returns ``main`` only.
    """

    def __init__(self, name: str, config: ModelConfig):
        super().__init__(name, config)
        self.encoder = build_encoder(config)
        stages = self.encoder.stages
        self.bridge = Bridge(stages[-1].channels, config)
        self.decoder = UNetDecoder(stages, decoder_widths(config, stages), config)
        self.head = make_head(config, self.decoder.out_channels)
        aux_channels = self.decoder.level_channels[1:] if config.deep_supervision else []
        # Built shallow → deep, the order of the auxiliary outputs.
        self.aux_heads = nn.ModuleList([make_head(config, c) for c in aux_channels])

    def decoder_levels(self) -> list[nn.Module]:
        return list(self.decoder.levels)

    def forward(self, x):
        tracing = is_trace(x)
        features = self.encode(x)
        outputs = self.decoder(features)
        main = self.head(outputs[-1])
        if tracing or not (self.deep_supervision and self.training):
            return main
        deep_to_shallow = outputs[:-1]
        aux = [head(out) for head, out in zip(self.aux_heads, reversed(deep_to_shallow))]
        return [main, *aux]
