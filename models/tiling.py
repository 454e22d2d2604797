"""Tile grids for tiled inference: which input window feeds which output region.

Three kinds of plan (``make_plan(mode, ...)``), all over an image of spatial shape ``S``
(output coordinates equal input coordinates; reads outside the image mirror it):

* ``"exact"`` (same-padding, tile-local networks): windows start on the ``size_divisor``
  grid and give each core ``halo`` pixels of context on every side inside the image padded
  (reflect) up to a divisor multiple ``P``; border windows are shifted inward so every window
  has one shape (border cores need context on one side only, so they are longer); only cores
  are written. The result equals the network run once on the padded image, cropped to ``S``.
* ``"valid"`` (valid-padding networks, the 2015 overlap-tile strategy): the network's
  output is its input shrunk by ``offset`` per side, so the image is mirrored by ``offset``
  at its borders and output tiles are laid side by side on a grid aligned to the divisor.
* ``"blend"`` (networks that are not tile-local): overlapping windows whose outputs are
  averaged with Gaussian weights; close to, but not equal to, the whole-image pass.

A window may start before 0 or end after ``S``: ``read_window`` fills those parts by
mirroring (numpy's ``reflect``), so no padded copy of a large image is ever made.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from unet_studio.models.tile_order import order_tiles

PLAN_MODES = ("exact", "valid", "blend")


@dataclass(frozen=True)
class Tile:
    """One network call's worth of work.

    ``outer``: indices on the axes in front of the channel axis (frames, 2D slices), empty
    for a single image. ``window_start``: first input pixel per spatial axis (may be < 0 or
    the window may run past the image: mirrored). ``output_start``: image coordinate of the
    network output's first pixel. ``core``: the image region this tile writes.
    """

    outer: tuple[int, ...]
    window_start: tuple[int, ...]
    output_start: tuple[int, ...]
    core: tuple[slice, ...]

    @property
    def region(self) -> tuple[slice, ...]:
        """Written region over the outer and spatial axes, for progress reports."""
        return tuple(slice(i, i + 1) for i in self.outer) + self.core


@dataclass(frozen=True)
class NetGeometry:
    """What the tiler needs to know about a network (read from its published attributes)."""

    spatial_dims: int
    size_divisor: tuple[int, ...]
    halo: tuple[int, ...]
    offset: tuple[int, ...]  # valid padding: output = input shrunk by this per side
    padding: str
    tile_exact: bool
    net: object = field(repr=False, compare=False, default=None)

    @classmethod
    def from_net(cls, net) -> NetGeometry:
        dims = int(net.spatial_dims)
        divisor = _per_axis(net.size_divisor, dims)
        padding = getattr(net, "padding", "same")
        offset = (0,) * dims
        if padding == "valid":
            probe = tuple(net.valid_input_shape(tuple(8 * d for d in divisor)))
            offset = tuple((i - o) // 2 for i, o in zip(probe, net.output_shape(probe)))
        # The halo must keep windows on the pooling grid: round up to the divisor defensively.
        halo = tuple(_round_up(h, d) for h, d in zip(_per_axis(net.halo, dims), divisor))
        return cls(
            spatial_dims=dims,
            size_divisor=divisor,
            halo=halo,
            offset=offset,
            padding=padding,
            tile_exact=bool(getattr(net, "tile_exact", True)),
            net=net,
        )

    def valid_window(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The smallest input shape >= ``shape`` that the network accepts."""
        if self.net is not None and hasattr(self.net, "valid_input_shape"):
            return tuple(int(n) for n in self.net.valid_input_shape(tuple(shape)))
        return tuple(_round_up(n, d) for n, d in zip(shape, self.size_divisor))


@dataclass(frozen=True)
class TilePlan:
    """Tiles sharing one window shape, so they can be stacked into batches."""

    mode: str
    image_shape: tuple[int, ...]
    window_shape: tuple[int, ...]
    output_tile_shape: tuple[int, ...]
    core_shape: tuple[int, ...]
    tiles: tuple[Tile, ...]
    overlap: float = 0.0

    def __len__(self) -> int:
        return len(self.tiles)


def _per_axis(value, dims: int) -> tuple[int, ...]:
    if np.isscalar(value):
        return (int(value),) * dims
    values = tuple(int(v) for v in value)
    if len(values) != dims:
        raise ValueError(f"expected {dims} values (one per spatial axis), got {values}")
    return values


def _round_up(n: int, d: int) -> int:
    return int(math.ceil(n / d) * d)


def round_down(n: int, d: int) -> int:
    """``n`` rounded down to a multiple of ``d``, at least ``d``."""
    return max(d, (int(n) // d) * d)


def _layout(mode, image_shape, core_shape, geometry: NetGeometry, overlap: float,
            balance: bool = True) -> dict:
    """Per-axis shapes of a plan: window, output tile, step between cores, clamp bound."""
    divisor, offset = geometry.size_divisor, geometry.offset
    if mode == "exact":
        axes = [exact_axis_shapes(s, c, d, h, balance=balance)
                for s, c, d, h in zip(image_shape, core_shape, divisor, geometry.halo)]
        window = tuple(a[1] for a in axes)
        core = tuple(a[0] for a in axes)
        return {"window": window, "out_tile": window, "step": core, "core": core,
                "bound": tuple(a[2] for a in axes)}
    if mode == "valid":
        wanted = tuple(min(_round_up(c, d), s) + 2 * o
                       for c, d, s, o in zip(core_shape, divisor, image_shape, offset))
    elif mode == "blend":
        # The core grows by the halo on both sides, as in exact mode, then tiles overlap.
        whole = tuple(s + 2 * o for s, o in zip(image_shape, offset))
        wanted = tuple(min(_round_up(c + 2 * h, d), w)
                       for c, h, d, w in zip(core_shape, geometry.halo, divisor, whole))
    else:
        raise ValueError(f"tiling mode must be one of {PLAN_MODES}, got {mode!r}")
    window = geometry.valid_window(wanted)
    out_tile = tuple(w - 2 * o for w, o in zip(window, offset))
    if mode == "valid":
        step = tuple(s if t >= s else (t // d) * d
                     for s, t, d in zip(image_shape, out_tile, divisor))
    else:
        step = tuple(round_down(t * (1 - overlap), d) if t > d else t
                     for t, d in zip(out_tile, divisor))
    # Nominal core: what a smaller plan (after running out of memory) halves.
    core = step if mode == "valid" else tuple(
        max(d, w - 2 * h) for w, h, d in zip(window, geometry.halo, divisor))
    return {"window": window, "out_tile": out_tile, "step": step, "core": core,
            "bound": image_shape}


def _axis_entries(mode, start, stop, axis, layout, geometry: NetGeometry):
    """(window_start, output_start, core_start, core_stop) for the cores covering [start, stop)."""
    window, step = layout["window"][axis], layout["step"][axis]
    if mode == "exact":
        return _greedy_cores(start, stop, window, geometry.halo[axis], layout["bound"][axis],
                             geometry.size_divisor[axis])
    offset = geometry.offset[axis]
    if mode == "valid":
        return [(s - offset, s, s, min(s + step, stop)) for s in range(start, stop, step)]
    out_tile = layout["out_tile"][axis]
    starts = list(range(start, max(stop - out_tile, start) + 1, step))
    if starts[-1] + out_tile < stop:
        starts.append(stop - out_tile)
    return [(s - offset, s, s, min(s + out_tile, stop)) for s in starts]


def _tiles(mode, regions, layout, geometry) -> list[Tile]:
    """Tiles covering each (outer, core-region) pair, cores laid out from the region's start."""
    tiles = []
    for outer, region in regions:
        per_axis = [_axis_entries(mode, r.start, r.stop, axis, layout, geometry)
                    for axis, r in enumerate(region)]
        for combo in itertools.product(*per_axis):
            tiles.append(Tile(
                outer=tuple(outer),
                window_start=tuple(e[0] for e in combo),
                output_start=tuple(e[1] for e in combo),
                core=tuple(slice(e[2], e[3]) for e in combo),
            ))
    return tiles


def _greedy_cores(start, stop, window, halo, bound, divisor):
    """Cores covering [start, stop), each as long as its window allows.

    The window starts on the divisor grid at most ``halo`` before the core (clamped to
    [0, bound - window]); the core runs to ``halo`` before the window's end, or to ``stop``
    where the window reaches the (padded) image end, which needs no context beyond it.
    """
    entries, s = [], start
    while s < stop:
        w = min(max(((s - halo) // divisor) * divisor, 0), bound - window)
        end = stop if w + window >= bound else min(w + window - halo, stop)
        entries.append((w, w, s, end))
        s = end
    return entries


def exact_axis_shapes(size: int, core: int, divisor: int, halo: int, *,
                      balance: bool = True) -> tuple[int, int, int]:
    """(nominal core, window, padded size) for one axis of an exact plan.

    One tile when core + 2 halo reaches the padded image. Otherwise ``n`` tiles of the
    requested core are needed, and with ``balance`` the window shrinks to the smallest one
    with which ``n`` windows still cover the axis (border tiles need context on one side
    only), which saves up to 2 halo of computation per axis.
    """
    padded = _round_up(size, divisor)
    core = round_down(core, divisor)
    if core + 2 * halo >= padded:
        return padded, padded, padded
    window = core + 2 * halo
    if balance:
        count = math.ceil((padded - 2 * halo) / core)
        needed = math.ceil((padded + 2 * halo * (count - 1)) / count)
        window = min(window, _round_up(needed, divisor))
    return window - 2 * halo, window, padded


def make_plan(mode, image_shape, core_shape, geometry: NetGeometry, *, outers=((),),
              overlap: float = 0.25, first=None, chunks=None) -> TilePlan:
    """A plan over ``image_shape`` (spatial) for every index in ``outers``.

    ``core_shape``: the core per tile (blend: the window is the core plus the halo on each
    side, and windows overlap by ``overlap``); larger than the image means one tile.
    ``first``: a region (a slice per outer then spatial axis) whose tiles run first, nearest
    its centre first (``models.tile_order``); ``chunks``: the input's ``ChunkGrid`` over the
    same axes, for an order that decodes each chunk about once (``models.chunk_order``).
    The tiles, hence the result, are the same in any order.
    """
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    image_shape = tuple(int(s) for s in image_shape)
    core_shape = _per_axis(core_shape, len(image_shape))
    layout = _layout(mode, image_shape, core_shape, geometry, overlap)
    whole = tuple(slice(0, s) for s in image_shape)
    tiles = _tiles(mode, [(outer, whole) for outer in outers], layout, geometry)
    ordered = order_tiles(tiles, first, chunks, window_shape=layout["window"],
                          image_shape=image_shape)
    return TilePlan(mode, image_shape, layout["window"], layout["out_tile"], layout["core"],
                    ordered, overlap)


def subdivide(plan: TilePlan, tiles, core_shape, geometry: NetGeometry) -> TilePlan:
    """Re-plan unfinished ``tiles`` with a smaller core (after running out of memory).

    Only each tile's own core is split, so nothing already written is recomputed, and the new
    tiles obey the alignment rules of the original plan: exact plans stay exact. The new
    tiles keep the order of ``tiles`` (a plan ordered around a region stays so).
    """
    layout = _layout(plan.mode, plan.image_shape, _per_axis(core_shape, len(plan.image_shape)),
                     geometry, plan.overlap, balance=False)
    new_tiles = _tiles(plan.mode, [(t.outer, t.core) for t in tiles], layout, geometry)
    return TilePlan(plan.mode, plan.image_shape, layout["window"], layout["out_tile"],
                    layout["core"], tuple(new_tiles), plan.overlap)


def reflect_indices(start: int, stop: int, size: int) -> np.ndarray:
    """Indices into an axis of length ``size`` for positions [start, stop), mirrored outside.

    Same values as ``np.pad(..., mode="reflect")`` (edge pixel not repeated), for any pad.
    """
    positions = np.arange(start, stop)
    if size == 1:
        return np.zeros_like(positions)
    period = 2 * (size - 1)
    folded = np.mod(positions, period)
    return np.where(folded >= size, period - folded, folded)


def read_window(image, outer, window_start, window_shape) -> np.ndarray:
    """Read ``image[(*outer, :, window)]`` as float32 ``(C, *window_shape)``, mirrored outside.

    ``image``: array-like ``(*outer_axes, C, *spatial)`` (ndarray, memmap, zarr, lazy view);
    only the bounding box of the needed pixels is read.
    """
    spatial = image.shape[len(outer) + 1:]
    indices = [reflect_indices(s, s + n, size)
               for s, n, size in zip(window_start, window_shape, spatial)]
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in indices)
    block = np.asarray(image[(*outer, slice(None), *box)], dtype=np.float32)
    for axis, (idx, span) in enumerate(zip(indices, box), start=1):
        local = idx - span.start
        if not (local.size == block.shape[axis] and np.array_equal(local, np.arange(local.size))):
            block = np.take(block, local, axis=axis)
    return block


def gaussian_weights(shape: tuple[int, ...], sigma_scale: float = 0.125) -> np.ndarray:
    """Separable Gaussian importance map ``(*shape)`` (sigma = ``sigma_scale`` * size), > 0."""
    weights = np.ones((), dtype=np.float32)
    for n in shape:
        x = np.arange(n, dtype=np.float64) - (n - 1) / 2
        sigma = max(sigma_scale * n, 1e-3)
        g = np.exp(-0.5 * (x / sigma) ** 2)
        weights = np.multiply.outer(weights, (g / g.max()).astype(np.float32))
    return np.maximum(weights, 1e-6).astype(np.float32)
