"""Dimension-generic layers: one code path for 1D, 2D and 3D.

``spatial_dims`` selects the conv, norm, pool and interpolation classes. Every module here
also accepts a :class:`~unet_studio.models.trace.Trace` (see ``models/trace.py``) so that a
network's geometry is derived by running its own ``forward`` symbolically.
Tensors are ``(B, C, *spatial)`` throughout.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .config import ACTIVATIONS, NORMS, PADDINGS
from .trace import GeometryError, Trace, centre_margins, is_trace

INTERPOLATION = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _pick(classes: tuple, spatial_dims: int):
    if spatial_dims not in (1, 2, 3):
        raise ValueError(f"spatial_dims must be 1, 2 or 3, got {spatial_dims!r}")
    return classes[spatial_dims - 1]


def conv_class(spatial_dims: int) -> type[nn.Module]:
    return _pick((nn.Conv1d, nn.Conv2d, nn.Conv3d), spatial_dims)


def conv_transpose_class(spatial_dims: int) -> type[nn.Module]:
    return _pick((nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), spatial_dims)


def max_pool_class(spatial_dims: int) -> type[nn.Module]:
    return _pick((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d), spatial_dims)


def make_norm(kind: str, spatial_dims: int, channels: int) -> nn.Module:
    """Normalisation over ``channels``; ``"group"`` uses up to 8 groups that divide them."""
    if kind == "batch":
        return _pick((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), spatial_dims)(channels)
    if kind == "instance":
        cls = _pick((nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d), spatial_dims)
        return cls(channels, affine=True)
    if kind == "group":
        return nn.GroupNorm(math.gcd(channels, 8), channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


def make_activation(name: str) -> nn.Module:
    """``identity`` makes the network linear (used to measure receptive fields)."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01, inplace=True)
    if name == "gelu":
        return nn.GELU()
    if name == "identity":
        return nn.Identity()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def same_padding(kernel_size: int, padding: str) -> int:
    """Zero padding per side: keeps odd kernels size-preserving for "same", none for "valid"."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    return (kernel_size - 1) // 2 if padding == "same" else 0


# --- functions that take tensors or Traces -------------------------------------------------


def crop_to(x, spatial_shape):
    """Centre crop ``x`` to ``spatial_shape`` (the paper's skip cropping)."""
    if is_trace(x):
        return x.crop_to(spatial_shape)
    index = [slice(None), slice(None)]
    for size, target in zip(x.shape[2:], spatial_shape):
        left, right = centre_margins(size, target)
        index.append(slice(left, size - right))
    return x[tuple(index)]


def align(items: list) -> list:
    """Centre-crop every branch to the smallest spatial size among them."""
    shapes = [tuple(item.shape[2:]) if not is_trace(item) else item.shape for item in items]
    target = tuple(min(sizes) for sizes in zip(*shapes))
    return [item if shape == target else crop_to(item, target) for item, shape in zip(items, shapes)]


def concat(items: list):
    """Channel concatenation of centre-aligned branches."""
    if is_trace(items[0]):
        return Trace.merge(items)
    return torch.cat(align(items), dim=1)


def add(a, b):
    if is_trace(a):
        return Trace.merge([a, b])
    a, b = align([a, b])
    return a + b


def multiply(a, b):
    if is_trace(a):
        return Trace.merge([a, b])
    a, b = align([a, b])
    return a * b


def pointwise(module: nn.Module, x):
    """Apply a per-pixel module (norm, activation, dropout); geometry passes through."""
    return x if is_trace(x) else module(x)


# --- modules --------------------------------------------------------------------------------


class ConvLayer(nn.Module):
    """Conv → norm → activation: ``(B, in_channels, *s) → (B, out_channels, *s')``.

    The bias is dropped when a norm follows (it would be cancelled by it) unless ``bias`` says
    otherwise.
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, kernel_size: int = 3,
                 *, stride: int = 1, padding: str = "same", norm: str = "batch",
                 activation: str = "relu", bias: bool | None = None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.pad = same_padding(kernel_size, padding)
        bias = norm == "none" if bias is None else bias
        self.conv = conv_class(spatial_dims)(
            in_channels, out_channels, kernel_size, stride=stride, padding=self.pad, bias=bias
        )
        self.norm = make_norm(norm, spatial_dims, out_channels)
        self.act = make_activation(activation)
        self._flops = 2.0 * in_channels * out_channels * kernel_size**spatial_dims

    def forward(self, x):
        if is_trace(x):
            return x.window(self.kernel_size, self.stride, self.pad, self._flops)
        return self.act(self.norm(self.conv(x)))


class MaxPool(nn.Module):
    """Max pooling with ``kernel_size`` and ``stride``, padded like a conv of that kernel."""

    def __init__(self, spatial_dims: int, kernel_size: int = 2, stride: int = 2,
                 padding: str = "same"):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.pad = same_padding(kernel_size, padding)
        self.pool = max_pool_class(spatial_dims)(kernel_size, stride, padding=self.pad)

    def forward(self, x):
        if is_trace(x):
            return x.window(self.kernel_size, self.stride, self.pad)
        return self.pool(x)


class CentreCrop(nn.Module):
    """Drops ``margin`` pixels at both ends of every spatial axis."""

    def __init__(self, margin: int):
        super().__init__()
        self.margin = margin

    def forward(self, x):
        if is_trace(x):
            return x.crop(self.margin)
        m = self.margin
        if any(n <= 2 * m for n in x.shape[2:]):
            raise GeometryError(f"cannot crop {m} pixels from each side of {tuple(x.shape[2:])}")
        return x[(slice(None), slice(None), *[slice(m, n - m) for n in x.shape[2:]])]


class UpSample(nn.Module):
    """Doubles the resolution: ``(B, in_channels, *s) → (B, out_channels, *2s)``.

    ``mode="transpose"``: a 2x2 stride-2 transposed conv (the 2015 paper's up-conv).
    ``mode="linear"``: (bi/tri)linear interpolation then a 3x3 conv block; with
    ``padding="valid"`` the two border pixels that interpolation clamps are cropped, so no
    output depends on anything but real data.
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, mode: str = "transpose",
                 *, padding: str = "same", norm: str = "batch", activation: str = "relu"):
        super().__init__()
        self.mode, self.valid = mode, padding == "valid"
        if mode == "transpose":
            self.up = conv_transpose_class(spatial_dims)(in_channels, out_channels, 2, stride=2)
            self._flops = 2.0 * in_channels * out_channels
        elif mode == "linear":
            self.interpolation = INTERPOLATION[spatial_dims]
            self.conv = ConvLayer(spatial_dims, in_channels, out_channels, 3, padding=padding,
                                  norm=norm, activation=activation)
        else:
            raise ValueError(f"up must be 'transpose' or 'linear', got {mode!r}")

    def forward(self, x):
        if self.mode == "transpose":
            return x.upsample("nearest", self._flops) if is_trace(x) else self.up(x)
        if is_trace(x):
            x = x.upsample("linear")
            return self.conv(x.crop(1) if self.valid else x)
        x = F.interpolate(x, scale_factor=2.0, mode=self.interpolation, align_corners=False)
        if self.valid:
            x = x[(slice(None), slice(None), *[slice(1, n - 1) for n in x.shape[2:]])]
        return self.conv(x)
