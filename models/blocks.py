"""Building blocks shared by the U-Nets and ResNet encoders, in 1D/2D/3D.

Tensors are ``(B, C, *spatial)``. Every block also accepts a geometry ``Trace``.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import (
    CentreCrop,
    ConvLayer,
    add,
    concat,
    make_activation,
    make_norm,
    multiply,
    pointwise,
)


class DoubleConv(nn.Module):
    """The U-Net block: two 3x3 conv → norm → activation layers, ``in → out → out`` channels."""

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, *,
                 padding: str = "same", norm: str = "batch", activation: str = "relu"):
        super().__init__()
        kw = dict(padding=padding, norm=norm, activation=activation)
        self.convs = nn.Sequential(
            ConvLayer(spatial_dims, in_channels, out_channels, 3, **kw),
            ConvLayer(spatial_dims, out_channels, out_channels, 3, **kw),
        )

    def forward(self, x):
        return self.convs(x)


class _Residual(nn.Module):
    """``act(main(x) + shortcut(x))`` with an identity shortcut, or a 1x1 projection (+ norm)
    where channels or stride change.

    With ``padding="valid"`` and a stride, the projection first crops the border pixel that
    the strided 3x3 conv's window centre never lands on, so both paths stay centred on the
    same pixels; the sum centre-crops the (larger) shortcut to the main path.
    """

    def _make_shortcut(self, spatial_dims, in_channels, out_channels, stride, padding, norm):
        if in_channels == out_channels and stride == 1:
            return nn.Identity()
        layers = [CentreCrop(1)] if padding == "valid" and stride > 1 else []
        layers.append(ConvLayer(spatial_dims, in_channels, out_channels, 1, stride=stride,
                                norm=norm, activation="identity"))
        return nn.Sequential(*layers)

    def forward(self, x):
        return pointwise(self.act, add(self.shortcut(x), self.main(x)))


class ResidualBlock(_Residual):
    """Basic residual block (ResNet-18/34 and the residual U-Net): two 3x3 convs.

    ``(B, in, *s) → (B, out, *s/stride)``; the stride sits in the first conv.
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, *, stride: int = 1,
                 padding: str = "same", norm: str = "batch", activation: str = "relu"):
        super().__init__()
        kw = dict(padding=padding, norm=norm)
        self.main = nn.Sequential(
            ConvLayer(spatial_dims, in_channels, out_channels, 3, stride=stride,
                      activation=activation, **kw),
            ConvLayer(spatial_dims, out_channels, out_channels, 3, activation="identity", **kw),
        )
        self.shortcut = self._make_shortcut(spatial_dims, in_channels, out_channels, stride,
                                            padding, norm)
        self.act = make_activation(activation)


class BottleneckBlock(_Residual):
    """Bottleneck residual block: 1x1 reduce → 3x3 → 1x1 expand (ResNet-50/101/152).

    ``inner_channels`` defaults to ``out_channels // 4`` (4x expansion); the stride sits in the
    3x3 conv (torchvision's "v1.5"). Also usable in the decoder, after up-sampling and skip
    fusion, as a cheaper replacement for :class:`DoubleConv`. 64 → 128 channels via 32 costs
    2,048 + 9,216 + 4,096 = 15,360 weights against 73,728 for one plain 3x3 conv.
    """

    expansion = 4

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, *, stride: int = 1,
                 inner_channels: int | None = None, padding: str = "same", norm: str = "batch",
                 activation: str = "relu", bias: bool | None = None):
        super().__init__()
        inner = inner_channels or max(out_channels // self.expansion, 1)
        kw = dict(norm=norm, bias=bias)
        self.main = nn.Sequential(
            ConvLayer(spatial_dims, in_channels, inner, 1, activation=activation, **kw),
            ConvLayer(spatial_dims, inner, inner, 3, stride=stride, padding=padding,
                      activation=activation, **kw),
            ConvLayer(spatial_dims, inner, out_channels, 1, activation="identity", **kw),
        )
        self.shortcut = self._make_shortcut(spatial_dims, in_channels, out_channels, stride,
                                            padding, norm)
        self.act = make_activation(activation)


def make_block(kind: str, spatial_dims: int, in_channels: int, out_channels: int, *,
               padding: str, norm: str, activation: str) -> nn.Module:
    """``kind``: "conv" (two 3x3 convs), "residual" (with a shortcut) or "bottleneck"."""
    kw = dict(padding=padding, norm=norm, activation=activation)
    if kind == "conv":
        return DoubleConv(spatial_dims, in_channels, out_channels, **kw)
    if kind == "residual":
        return ResidualBlock(spatial_dims, in_channels, out_channels, **kw)
    if kind == "bottleneck":
        return BottleneckBlock(spatial_dims, in_channels, out_channels, **kw)
    raise ValueError(f"block must be 'conv', 'residual' or 'bottleneck', got {kind!r}")


class AttentionGate(nn.Module):
    """Additive attention gate on a skip (Oktay et al. 2018), computed per pixel.

    ``skip (B, Cs, *s)`` is weighted by ``sigmoid(psi(act(Wg g + Wx skip)))`` where the gating
    signal ``g (B, Cg, *s)`` is the up-sampled decoder feature at the same resolution. All
    1x1 convs: the gate is local, so tiling stays exact.
    """

    def __init__(self, spatial_dims: int, gate_channels: int, skip_channels: int, *,
                 norm: str = "batch", activation: str = "relu"):
        super().__init__()
        inner = max(skip_channels // 2, 1)
        kw = dict(norm=norm, activation="identity")
        self.gate = ConvLayer(spatial_dims, gate_channels, inner, 1, **kw)
        self.skip = ConvLayer(spatial_dims, skip_channels, inner, 1, **kw)
        self.act = make_activation(activation)
        self.psi = ConvLayer(spatial_dims, inner, 1, 1, **kw)

    def forward(self, g, skip):
        hidden = pointwise(self.act, add(self.gate(g), self.skip(skip)))
        weights = pointwise(torch.sigmoid, self.psi(hidden))
        return multiply(skip, weights)


class SkipFusion(nn.Module):
    """Joins up-sampled decoder features with one or more skips by concatenation.

    ``up (B, Cu, *s)`` and ``skips [(B, Ci, *si)]`` → ``(B, out_channels, *s')``, all
    centre-cropped to the smallest size. Options from the seed notes against the semantic
    gap: ``skip_norm`` normalises every branch before concatenating, ``attention`` gates each
    skip with the decoder features, ``compress_to`` adds a 1x1 conv shrinking the channels.
    """

    def __init__(self, spatial_dims: int, up_channels: int, skip_channels: list[int], *,
                 attention: bool = False, skip_norm: bool = False, compress_to: int | None = None,
                 norm: str = "batch", activation: str = "relu"):
        super().__init__()
        branches = [up_channels, *skip_channels]
        self.norms = nn.ModuleList(
            [make_norm(norm, spatial_dims, c) for c in branches] if skip_norm else []
        )
        self.gates = nn.ModuleList(
            [AttentionGate(spatial_dims, up_channels, c, norm=norm, activation=activation)
             for c in skip_channels] if attention else []
        )
        self.out_channels = compress_to or sum(branches)
        self.compress = (
            ConvLayer(spatial_dims, sum(branches), compress_to, 1, norm=norm, activation=activation)
            if compress_to else nn.Identity()
        )

    def forward(self, up, skips: list):
        if self.norms:
            up = pointwise(self.norms[0], up)
            skips = [pointwise(n, s) for n, s in zip(self.norms[1:], skips)]
        if self.gates:
            skips = [gate(up, s) for gate, s in zip(self.gates, skips)]
        return self.compress(concat([up, *skips]))
