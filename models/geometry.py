"""A network's geometry derived from its architecture by a symbolic forward pass.

``forward`` of every network in the family runs on a :class:`~.trace.Trace`; from it come the
output size for an input size, the sizes the network accepts, its size divisor, its
receptive field and halo, and its FLOPs per pixel. Nothing here is written per model.

All kernels are isotropic, so one axis is traced and the result holds for every axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .trace import AxisGeometry, GeometryError, Trace

# Traces are symbolic, so a huge size costs nothing; it must exceed every minimum size.
_LARGE = 2**20


def trace_output(net, spatial_shape) -> Trace:
    """The output Trace of ``net`` for ``spatial_shape``, checked to be a centred output.

    Raises GeometryError when the network cannot take that shape.
    """
    output = net(Trace.of_shape(spatial_shape))
    for n, g in zip(spatial_shape, output.axes):
        _check_centred(net.padding, n, g)
    return output


def _check_centred(padding: str, size: int, g: AxisGeometry) -> None:
    if g.stride != 1:
        raise GeometryError(f"the output has stride {g.stride}, not the input's resolution")
    lost = size - g.size
    if padding == "same" and (lost or g.anchor):
        raise GeometryError(f"size {size} comes out as {g.size}")
    if padding == "valid" and (lost < 0 or lost % 2 or 2 * g.anchor != lost):
        raise GeometryError(f"size {size} gives an output of {g.size} that is not centred")


def _accepts(net, size: int) -> bool:
    try:
        trace_output(net, (size,))
    except GeometryError:
        return False
    return True


@dataclass(frozen=True)
class SizeRule:
    """Sizes accepted along an axis: ``n % divisor`` in ``minimum`` and ``n >= minimum[residue]``."""

    divisor: int
    minimum: dict

    def accepts(self, size: int) -> bool:
        smallest = self.minimum.get(size % self.divisor)
        return smallest is not None and size >= smallest

    def nearest(self, size: int) -> int:
        """The smallest accepted size that is not smaller than ``size``."""
        candidates = []
        for residue, smallest in self.minimum.items():
            start = max(size, smallest)
            candidates.append(start + (residue - start) % self.divisor)
        return min(candidates)

    def describe(self) -> str:
        parts = [f"{smallest} + {self.divisor}k" for smallest in sorted(self.minimum.values())]
        return " or ".join(parts)


def _size_divisor(net) -> int:
    """The deepest stride reached. An invalid size fails late (at a decoder merge, after the
    encoder has reached its deepest stride), and the log keeps what was reached."""
    trace = Trace.of_shape((_LARGE,))
    try:
        net(trace)
    except GeometryError:
        pass
    return trace.log.max_stride


def _smallest_accepted(net, residue: int, divisor: int) -> int:
    """Smallest accepted ``residue + divisor * k``: gallop up from k = 0, then bisect
    (acceptance grows monotonically with size in this family)."""
    def accepted(k: int) -> bool:
        size = residue + divisor * k
        return size >= 1 and _accepts(net, size)

    low, high = -1, 0  # invariant: k = low is rejected, k = high is to be tested
    while not accepted(high):
        low, high = high, max(1, 2 * high)
        if high > _LARGE // divisor:
            raise GeometryError(f"{net.name} accepts no size with residue {residue}")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if accepted(middle) else (middle, high)
    return residue + divisor * high


def find_size_rule(net) -> SizeRule:
    """Probes one period of large sizes for the accepted residues modulo the size divisor,
    then finds each residue's smallest accepted size."""
    divisor = _size_divisor(net)
    minimum = {
        residue: _smallest_accepted(net, residue, divisor)
        for residue in range(divisor)
        if _accepts(net, _LARGE + residue)
    }
    if not minimum:
        raise GeometryError(f"{net.name} accepts no input size (architecture bug)")
    return SizeRule(divisor, minimum)


@dataclass(frozen=True)
class NetworkGeometry:
    """Per spatial axis. ``receptive_lo``/``receptive_hi``: the extreme input offsets (relative
    to the input pixel an output pixel corresponds to) that can influence that output, over
    all output positions. ``halo``: the receptive radius rounded up to ``size_divisor``."""

    size_divisor: tuple[int, ...]
    receptive_field: tuple[int, ...]
    receptive_lo: tuple[int, ...]
    receptive_hi: tuple[int, ...]
    halo: tuple[int, ...]


def analyse(net, rule: SizeRule) -> NetworkGeometry:
    axis = trace_output(net, (rule.nearest(4 * rule.divisor),)).axes[0]
    lo, hi = min(axis.lo), max(axis.hi)
    radius = max(-lo, hi)
    halo = math.ceil(radius / rule.divisor) * rule.divisor
    dims = net.spatial_dims
    return NetworkGeometry(
        (rule.divisor,) * dims, (hi - lo + 1,) * dims, (lo,) * dims, (hi,) * dims, (halo,) * dims
    )


def flops_per_pixel(net, rule: SizeRule) -> float:
    """Convolution FLOPs (2 per multiply-add) per pixel of a large image; norms, activations
    and interpolation are not counted."""
    size = rule.nearest(4 * rule.divisor)
    return trace_output(net, (size,) * net.spatial_dims).log.flops_per_pixel
