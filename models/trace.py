"""Symbolic geometry of a network: sizes, anchors and receptive offsets per spatial axis.

Every module of the model family accepts a :class:`Trace` in place of a tensor
``(B, C, *spatial)`` and returns the Trace of its output. Running a network's own
``forward`` on a Trace therefore derives its output size, size divisor and receptive field
from the architecture itself, with no per-model formulas.

Coordinates, per axis. A feature map at ``stride`` s holds feature ``j`` *anchored* at input
pixel ``anchor + s * j``. ``lo[j % P]`` and ``hi[j % P]`` bound the input offsets (relative to
that anchor) that can influence feature ``j``; they depend on ``j`` only through its phase
modulo ``P = len(lo)`` (up-sampling makes even and odd pixels see different windows).
With ``padding="same"`` every anchor is 0; unpadded ("valid") convolutions shift anchors, and
merging branches (skip concatenation, residual sums) checks that centre-cropping really
pairs features with equal anchors. Input sizes for which that fails are invalid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


class GeometryError(ValueError):
    """A spatial size the network cannot take (the message says why)."""


@dataclass(frozen=True)
class AxisGeometry:
    """Geometry of a feature map along one spatial axis (see the module docstring)."""

    size: int
    stride: int = 1
    anchor: int = 0
    lo: tuple[int, ...] = (0,)
    hi: tuple[int, ...] = (0,)

    @property
    def period(self) -> int:
        return len(self.lo)


def window_axis(g: AxisGeometry, kernel: int, stride: int, padding: int) -> AxisGeometry:
    """A sliding window (conv or pool): output ``j`` reads input ``stride*j - padding + u``.

    Output ``j`` is anchored at input feature ``stride*j + a`` with ``a = (kernel-1)//2 - padding``:
    the window centre for odd kernels, its first pixel for 2x2 pooling. Same-padded odd
    kernels keep anchors at 0.
    """
    size = (g.size + 2 * padding - kernel) // stride + 1
    if size < 1:
        raise GeometryError(f"a size-{kernel} window does not fit a feature map of size {g.size}")
    shift = (kernel - 1) // 2 - padding
    step, g_period, g_lo, g_hi = g.stride, len(g.lo), g.lo, g.hi
    first, last = step * (-padding - shift), step * (kernel - 1 - padding - shift)
    if g_period == 1:  # the common case in encoders: every pixel sees the same window
        lo, hi = (first + g_lo[0],), (last + g_hi[0],)
    else:
        lo, hi = [], []
        for phase in range(g_period // math.gcd(g_period, stride)):
            start = stride * phase - padding
            lo.append(min(first + step * u + g_lo[(start + u) % g_period] for u in range(kernel)))
            hi.append(max(first + step * u + g_hi[(start + u) % g_period] for u in range(kernel)))
    return AxisGeometry(size, g.stride * stride, g.anchor + g.stride * shift, tuple(lo), tuple(hi))


def upsample_axis(g: AxisGeometry, mode: str) -> AxisGeometry:
    """Up-sampling by 2: ``mode="nearest"`` (also a 2x2 stride-2 transposed conv) or ``"linear"``.

    Fine pixel ``m`` reads coarse pixel ``m // 2``; linear interpolation (align_corners=False)
    also reads the neighbour on the side of ``m`` (``m//2 - 1`` for even ``m``, ``+ 1`` for odd).
    """
    if g.stride % 2:
        raise GeometryError("cannot up-sample above the input resolution")
    fine = g.stride // 2
    lo, hi = [], []
    for m in range(2 * g.period):
        coarse = m // 2
        sources = [coarse]
        if mode == "linear":
            sources.append(coarse - 1 if m % 2 == 0 else coarse + 1)
        offsets = [(g.stride * j - fine * m, j % g.period) for j in sources]
        lo.append(min(d + g.lo[p] for d, p in offsets))
        hi.append(max(d + g.hi[p] for d, p in offsets))
    return AxisGeometry(2 * g.size, fine, g.anchor, tuple(lo), tuple(hi))


def crop_axis(g: AxisGeometry, left: int, right: int) -> AxisGeometry:
    """Drop ``left`` and ``right`` features; the phases rotate with the new first index."""
    size = g.size - left - right
    if size < 1 or left < 0 or right < 0:
        raise GeometryError(f"cannot crop {left}+{right} from a feature map of size {g.size}")
    rotate = [(phase + left) % g.period for phase in range(g.period)]
    return AxisGeometry(
        size,
        g.stride,
        g.anchor + g.stride * left,
        tuple(g.lo[p] for p in rotate),
        tuple(g.hi[p] for p in rotate),
    )


def centre_margins(size: int, target: int) -> tuple[int, int]:
    """Left/right crop that centres ``target`` pixels in ``size``; the difference must be even."""
    extra = size - target
    if extra < 0 or extra % 2:
        raise GeometryError(
            f"branches of sizes {size} and {target} cannot be centre-aligned "
            "(their difference must be even)"
        )
    return extra // 2, extra // 2


def merge_axes(geometries: list[AxisGeometry]) -> AxisGeometry:
    """Centre-crop branches to the smallest and join them (concat, sum or product)."""
    target = min(g.size for g in geometries)
    cropped = [crop_axis(g, *centre_margins(g.size, target)) for g in geometries]
    first = cropped[0]
    for g in cropped[1:]:
        if g.stride != first.stride:
            raise GeometryError(f"cannot join stride-{g.stride} and stride-{first.stride} maps")
        if g.anchor != first.anchor:
            raise GeometryError(
                "centre-cropped branches are misaligned by "
                f"{abs(g.anchor - first.anchor)} input pixels"
            )
    period = math.lcm(*(g.period for g in cropped))
    lo = tuple(min(g.lo[p % g.period] for g in cropped) for p in range(period))
    hi = tuple(max(g.hi[p % g.period] for g in cropped) for p in range(period))
    return replace(first, lo=lo, hi=hi)


@dataclass
class TraceLog:
    """Shared by all Traces of one symbolic pass: deepest stride reached and FLOPs counted."""

    max_stride: int = 1
    flops_per_pixel: float = 0.0


@dataclass(frozen=True)
class Trace:
    """Stand-in for a tensor ``(B, C, *spatial)``: one :class:`AxisGeometry` per spatial axis."""

    axes: tuple[AxisGeometry, ...]
    log: TraceLog = field(default_factory=TraceLog, compare=False)

    @classmethod
    def of_shape(cls, spatial_shape) -> Trace:
        return cls(tuple(AxisGeometry(int(n)) for n in spatial_shape))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(g.size for g in self.axes)

    def _derive(self, axes, flops_per_element: float = 0.0) -> Trace:
        strides = [g.stride for g in axes]
        self.log.max_stride = max(self.log.max_stride, *strides)
        # FLOPs per input pixel: an output element at stride s stands for s**dims pixels.
        self.log.flops_per_pixel += flops_per_element / math.prod(strides)
        return Trace(tuple(axes), self.log)

    def window(self, kernel: int, stride: int = 1, padding: int = 0, flops: float = 0.0) -> Trace:
        """``flops``: floating-point operations per output element (2 per multiply-add)."""
        return self._derive([window_axis(g, kernel, stride, padding) for g in self.axes], flops)

    def upsample(self, mode: str, flops: float = 0.0) -> Trace:
        return self._derive([upsample_axis(g, mode) for g in self.axes], flops)

    def crop(self, margin: int) -> Trace:
        return self._derive([crop_axis(g, margin, margin) for g in self.axes])

    def crop_to(self, spatial_shape) -> Trace:
        axes = [crop_axis(g, *centre_margins(g.size, n)) for g, n in zip(self.axes, spatial_shape)]
        return self._derive(axes)

    @staticmethod
    def merge(traces: list[Trace]) -> Trace:
        axes = [merge_axes(list(per_axis)) for per_axis in zip(*(t.axes for t in traces))]
        return traces[0]._derive(axes)


def is_trace(x) -> bool:
    return isinstance(x, Trace)
