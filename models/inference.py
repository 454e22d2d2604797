"""Tiled inference whose result equals one pass over the whole image.

``iter_predict`` runs the network (no normalisation, no post-processing) over an image of any
size in tiles and streams the output into ``out``; ``predict_tiled`` drains it. The whole
pipeline (normalisation, slice-by-slice 2D, post-processing) is ``iter_predict_image`` /
``predict_image``. Which tiles feed which output region is ``models.tiling``; the device side
(autocast, transfers, TTA) is ``models.tile_runner``; the automatic tile and batch size,
``models.tile_size``.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from unet_studio.models.devices import is_out_of_memory, release_memory
from unet_studio.models.generators import drain
from unet_studio.models.mapped import PageReleaser
from unet_studio.models.tile_runner import InferenceSession
from unet_studio.models.tile_size import choose_tile_shape, default_batch
from unet_studio.models.tiling import (
    NetGeometry,
    TilePlan,
    gaussian_weights,
    make_plan,
    read_window,
    round_down,
    subdivide,
)

log = logging.getLogger(__name__)

MODES = ("auto", "exact", "blend")


@dataclass(frozen=True)
class TileProgress:
    """``done`` of ``total`` tiles finished; ``region`` (output coordinates) is now final."""

    done: int
    total: int
    region: tuple[slice, ...]


class _ChannelFirst:
    """Lazy ``(1, *spatial)`` view of a single-channel ``(*spatial)`` array-like."""

    def __init__(self, data):
        self.data = data
        self.shape = (1, *data.shape)

    def __getitem__(self, key):
        return np.asarray(self.data[key[1:]])[None]


def plan_mode(geometry: NetGeometry, mode: str) -> str:
    """The tiling plan for a network: "exact", "valid" (overlap-tile) or "blend"."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "blend" or (mode == "auto" and not geometry.tile_exact):
        return "blend"
    return "valid" if geometry.padding == "valid" else "exact"


class _CoreSink:
    """Writes each tile's core into ``out`` ``(*outer, C, *spatial)``."""

    def __init__(self, out, plan: TilePlan):
        self.out = out  # every tile writes only its core: nothing to accumulate

    def write(self, tile, output: np.ndarray) -> None:
        local = tuple(slice(c.start - o, c.stop - o) for c, o in zip(tile.core, tile.output_start))
        self.out[(*tile.outer, slice(None), *tile.core)] = output[(slice(None), *local)]


class _BlendSink:
    """Gaussian-weighted average of overlapping tiles, accumulated in fp32.

    After each tile the blended value of its region is written to ``out``, so a cancelled
    run leaves the average of the tiles finished so far.
    """

    def __init__(self, out, plan: TilePlan):
        self.out = out
        self.total = np.zeros(out.shape, dtype=np.float32)
        self.weight = np.zeros(out.shape[:-len(plan.image_shape) - 1] + plan.image_shape,
                               dtype=np.float32)
        self._weights = {}

    def write(self, tile, output: np.ndarray) -> None:
        shape = output.shape[1:]
        if shape not in self._weights:
            self._weights[shape] = gaussian_weights(shape)
        local = tuple(slice(c.start - o, c.stop - o) for c, o in zip(tile.core, tile.output_start))
        weights = self._weights[shape][local]
        key = (*tile.outer, slice(None), *tile.core)
        self.total[key] += output[(slice(None), *local)] * weights
        self.weight[(*tile.outer, *tile.core)] += weights
        self.out[key] = self.total[key] / self.weight[(*tile.outer, *tile.core)]


def _smaller_core(plan: TilePlan, geometry: NetGeometry) -> tuple[int, ...] | None:
    """A core whose window is smaller than ``plan``'s, or None if the window is minimal.

    Per axis, the first of these that shrinks the window: half the core (on the divisor
    grid); half the window's interior (window - 2 halo); the divisor, the smallest core. An
    axis shorter than about core + 2 halo is one whole-axis window (its nominal core is the
    axis) however often that core is halved: without the other two the back-off stalled
    there and gave up while a smaller window still fitted. Halving the interior before
    taking the divisor keeps the tiles few (one step, not a jump to the smallest tile).
    """
    divisor, halo, window = geometry.size_divisor, geometry.halo, plan.window_shape
    candidates = [
        tuple(_halve(c, d) for c, d in zip(plan.core_shape, divisor)),
        tuple(_halve(max(d, w - 2 * h), d) for w, h, d in zip(window, halo, divisor)),
        tuple(divisor),
    ]
    windows = [_window_for(plan, core, geometry) for core in candidates]
    smaller = tuple(
        next((core[axis] for core, w in zip(candidates, windows) if w[axis] < window[axis]),
             plan.core_shape[axis])  # this axis's window is already minimal
        for axis in range(len(window)))
    if math.prod(_window_for(plan, smaller, geometry)) >= math.prod(window):
        return None
    return smaller


def _halve(core: int, divisor: int) -> int:
    return max(divisor, round_down(core // 2, divisor)) if core > divisor else core


def _window_for(plan: TilePlan, core_shape: tuple[int, ...], geometry: NetGeometry):
    """The window ``subdivide`` would give ``plan``'s tiles for ``core_shape`` (no tiles made)."""
    return subdivide(plan, (), core_shape, geometry).window_shape


def iter_run_plan(session: InferenceSession, source, plan: TilePlan, out, geometry: NetGeometry,
                  batch_size: int, pages: PageReleaser | None = None,
                  ) -> Generator[TileProgress, None, None]:
    """Run ``plan`` over ``source`` ``(*outer, C, *spatial)``, writing into ``out``.

    Out of memory: halve the batch, then the tile, and retry the tiles that failed; only
    when the smallest tile fails on a GPU does the run move to the CPU. One batch is in
    flight while the next is read (CUDA), and progress is yielded tile by tile. ``pages``
    keeps memory-mapped inputs and outputs from accumulating resident pages.
    """
    sink = (_BlendSink if plan.mode == "blend" else _CoreSink)(out, plan)
    pending, done, total, in_flight = deque(plan.tiles), 0, len(plan), None
    while pending or in_flight:
        launched, out_of_memory = None, False
        if pending:
            tiles = [pending.popleft() for _ in range(min(batch_size, len(pending)))]
            try:
                windows = [read_window(source, t.outer, t.window_start, plan.window_shape)
                           for t in tiles]
                launched = (tiles, session.submit(windows))
            except Exception as error:  # only memory errors are handled, the rest re-raised
                if not is_out_of_memory(error):
                    raise
                pending.extendleft(reversed(tiles))
                out_of_memory = True
        if in_flight is not None:
            outputs = session.collect(in_flight[1])
            if pages is not None:  # about the bytes of pixels read and written for the batch
                pages.tick(2 * outputs.nbytes)
            for tile, output in zip(in_flight[0], outputs):
                sink.write(tile, output)
                done += 1
                yield TileProgress(done, total, tile.region)
        in_flight = launched
        if out_of_memory:
            new_plan, batch_size = _recover(session, plan, pending, geometry, batch_size)
            if new_plan is not plan:
                total += len(new_plan) - len(pending)
                plan, pending = new_plan, deque(new_plan.tiles)


def _recover(session, plan: TilePlan, pending, geometry, batch_size):
    """After an out-of-memory error: smaller batch, else smaller tiles, else the CPU."""
    release_memory(session.device)
    if batch_size > 1:
        log.info("out of memory: batch %d -> %d", batch_size, batch_size // 2)
        return plan, batch_size // 2
    smaller = _smaller_core(plan, geometry)
    new_plan = None if smaller is None else subdivide(plan, list(pending), smaller, geometry)
    # Only a smaller window is progress (else: a loop); _smaller_core returns None only when
    # no core gives one, so this is the truly smallest exact window.
    if new_plan is None or math.prod(new_plan.window_shape) >= math.prod(plan.window_shape):
        if session.device.type == "cpu":
            raise MemoryError("out of memory even with the smallest tile on the CPU")
        session.fall_back_to_cpu()
        return plan, 1
    log.info("out of memory: window %s -> %s", plan.window_shape, new_plan.window_shape)
    return new_plan, 1


def check_input(net, image) -> object:
    """``image`` as a lazy ``(C, *spatial)`` array-like; ValueError if it does not fit ``net``."""
    dims, channels = int(net.spatial_dims), int(net.in_channels)
    if len(image.shape) == dims and channels == 1:
        return _ChannelFirst(image)
    if len(image.shape) == dims + 1 and image.shape[0] == channels:
        return image
    raise ValueError(
        f"the network takes (*spatial) or ({channels}, *spatial) with {dims} spatial axes, "
        f"got an image of shape {tuple(image.shape)}"
    )


def prepare_plan(session, net, spatial_shape, *, tile_shape=None, mode="auto", outers=((),),
                 batch_size=None, first=None, chunks=None) -> tuple[TilePlan, NetGeometry, int]:
    """The plan, geometry and batch size for ``net`` over ``spatial_shape``; ``first``: the
    region (a slice per outer then spatial axis) whose tiles run first; ``chunks``: the
    input's ``ChunkGrid`` over the same axes, to order the tiles by chunk (``make_plan``)."""
    geometry = NetGeometry.from_net(net)
    kind = plan_mode(geometry, mode)
    if tile_shape is None:
        tile_shape = choose_tile_shape(session, net, geometry)
    plan = make_plan(kind, spatial_shape, tile_shape, geometry, outers=outers, first=first,
                     chunks=chunks)
    if batch_size is None:
        batch_size = default_batch(session, net, plan, geometry)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return plan, geometry, int(batch_size)


def _output_array(out, shape: tuple[int, ...]):
    if out is None:
        return np.zeros(shape, dtype=np.float32)
    if tuple(out.shape) != shape:
        raise ValueError(f"out must have shape {shape} (out_channels, *spatial), got {tuple(out.shape)}")
    return out


def iter_predict(net, image, *, tile_shape=None, device="auto", batch_size=None, amp=True,
                 out=None, mode="auto", tta=False, first=None,
                 ) -> Generator[TileProgress, None, object]:
    """Network output ``(out_channels, *spatial)`` float32 for ``image``, tile by tile.

    ``image``: ``(*spatial)`` or ``(C, *spatial)``, any array-like (read tile by tile).
    ``tile_shape``: core size per tile (int or per axis); None chooses from memory; larger
    than the image gives one tile. ``mode``: "auto" (exact for tile-local networks, else
    blend), "exact" or "blend". ``out``: destination (ndarray, np.memmap, zarr array), else a
    new array. Yields ``TileProgress`` after each tile; closing the generator stops between
    tiles, leaving finished regions written and the rest of ``out`` untouched. ``first``:
    a region (a slice per spatial axis) whose tiles run first, nearest its centre first;
    the result is the same in any order.
    """
    source = check_input(net, image)
    spatial = tuple(int(n) for n in source.shape[1:])
    with InferenceSession(net, device, amp=amp, tta=tta) as session:
        plan, geometry, batch = prepare_plan(session, net, spatial, tile_shape=tile_shape,
                                             mode=mode, batch_size=batch_size, first=first)
        out = _output_array(out, (int(net.out_channels), *spatial))
        pages = PageReleaser(image, out)
        yield from iter_run_plan(session, source, plan, out, geometry, batch, pages)
        pages.release()
    return out


def predict_tiled(net, image, **options) -> np.ndarray:
    """``iter_predict`` run to the end: the network output ``(out_channels, *spatial)``."""
    return drain(iter_predict(net, image, **options))


def iter_predict_image(net, image, *, axes: str, task=None, output_type: str = "labels",
                       **options):
    """Whole pipeline on a stack; see ``models.pipeline.iter_predict_image``."""
    from unet_studio.models.pipeline import iter_predict_image as run

    return (yield from run(net, image, axes=axes, task=task, output_type=output_type, **options))


def predict_image(net, image, *, axes: str, task=None, output_type: str = "labels", **options):
    """``iter_predict_image`` run to the end: labels, mask or probabilities."""
    return drain(iter_predict_image(net, image, axes=axes, task=task, output_type=output_type,
                                    **options))
