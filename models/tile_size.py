"""Choosing the tile size and batch when the caller does not.

Every tile recomputes ``halo`` pixels of context on each side, so the share of computed pixels
that end up in the output is ``(core / (core + 2 * halo)) ** dims``. Small cores waste work
(512-px cores with the 112-px halo of a depth-4 U-Net compute 1.9x the pixels); huge ones cost
memory and make each step (progress, cancel) long. So the core is the *smallest* one whose
pixel share reaches ``CORE_FRACTION``, unless the memory budget forbids it, in which case it
is the largest the budget holds (and never below twice the halo).

Memory per window pixel: on CUDA it is measured with one real forward; on the CPU (and MPS)
it is estimated from the network's own feature maps (``net.feature_shapes``): about
``HOST_BYTES_PER_CHANNEL_PIXEL`` bytes per channel-pixel of all encoder stages and decoder
levels, which on the CPU measured 9.5-12.5 (fp32 activations plus the temporaries of the
layer running at the peak, plus oneDNN workspace).

The host budget is a quarter of the memory available now, within
``[HOST_BUDGET_MIN, HOST_BUDGET_MAX]`` (256 MiB to 2 GiB): a laptop keeps room for the viewer
and the stack; the 2 GiB ceiling keeps a CPU from tiles that take minutes each, and
``unet-studio predict`` of a stack with the default model (2048^2 planes: four 1136^2
windows, ~0.7 GB; 1024^2 planes: one window each, as windows over 512^2 are not batched on
the CPU) under 1.5 GB of RSS. Memory then limits deep, wide networks: a base-32 U-Net gets
~1040-px cores, 74-81 % core pixels on 2048^2-4096^2 images (measured throughput: see
benchmarks/results/tiling.md).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from unet_studio.models.tiling import NetGeometry, TilePlan, round_down

log = logging.getLogger(__name__)

CORE_FRACTION = 0.85
HOST_BYTES_PER_CHANNEL_PIXEL = 10.0
HOST_BYTES_FIXED = 96.0  # per window pixel: input, output and allocator slack
HOST_BUDGET_SHARE = 0.25
HOST_BUDGET_MIN = 256 * 2**20
HOST_BUDGET_MAX = 2 * 2**30
DEVICE_BUDGET_SHARE = 0.6  # of free GPU memory: cuDNN workspaces and fragmentation need room
MAX_BATCH = 32
MAX_HOST_BATCH = 8
# Window pixels per forward on the CPU up to which batching small windows pays. Measured
# with the default model (2D, halo 112) on 2 threads, seconds per stack, batch 1 vs more:
# 256^2 slices 3.3 vs 2.6 (4 per batch); 512^2 3.1 vs 3.1 (2); 1024^2 5.8 vs 6.8 (3) with
# twice the peak memory (906 vs 1763 MiB).
HOST_BATCH_PIXELS = 1 << 18


def available_host_memory() -> int | None:
    """Bytes the OS could give this process now (Linux ``MemAvailable``), else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unixes: half the physical memory as a guess of what is free
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return None


def host_memory_budget(available: int | None = None) -> int:
    """Bytes one forward may use on the CPU/MPS: a share of ``available``, clamped."""
    available = available_host_memory() if available is None else available
    if available is None:
        return HOST_BUDGET_MIN * 4
    return int(min(HOST_BUDGET_MAX, max(HOST_BUDGET_MIN, HOST_BUDGET_SHARE * available)))


def host_bytes_per_pixel(net, geometry: NetGeometry) -> float:
    """Estimated peak CPU bytes per window pixel of ``net`` (fp32), from its feature maps."""
    probe = geometry.valid_window(tuple(8 * d for d in geometry.size_divisor))
    try:
        rows = net.feature_shapes(probe)
    except (AttributeError, NotImplementedError, ValueError):  # networks outside the family
        rows = [("input", 64, probe)]
    channel_pixels = sum(c * math.prod(s) for _, c, s in rows) / math.prod(probe)
    in_out = int(getattr(net, "in_channels", 1)) + int(getattr(net, "out_channels", 1))
    return HOST_BYTES_PER_CHANNEL_PIXEL * channel_pixels + HOST_BYTES_FIXED + 4.0 * in_out


def target_core(halo: int, divisor: int, dims: int, fraction: float = CORE_FRACTION) -> int:
    """Smallest core (multiple of ``divisor``) with ``(core / (core + 2 halo)) ** dims >= fraction``."""
    per_axis = fraction ** (1.0 / dims)
    core = 2 * halo * per_axis / (1.0 - per_axis)
    return int(math.ceil(core / divisor) * divisor)


def core_for_budget(geometry: NetGeometry, bytes_per_pixel: float, budget: float, *,
                    fraction: float | None = CORE_FRACTION) -> tuple[int, ...]:
    """Core shape per axis: the target-fraction core (``fraction`` None: no target, as large
    as memory allows) bounded by the window ``budget / bytes_per_pixel`` holds; at least
    twice the halo (the overlap then costs at most ~2x per axis) and one divisor."""
    dims = geometry.spatial_dims
    side = (budget / max(bytes_per_pixel, 1.0)) ** (1.0 / dims)
    cores = []
    for h, d in zip(geometry.halo, geometry.size_divisor):
        fits = round_down(side - 2 * h, d) if side - 2 * h >= d else d
        wanted = fits if fraction is None else min(fits, target_core(h, d, dims, fraction))
        cores.append(max(wanted, round_down(2 * h, d), d))
    return tuple(cores)


def _device_budget(session) -> int | None:
    from unet_studio.models.devices import free_memory_bytes

    free = free_memory_bytes(session.device)
    return None if free is None else int(DEVICE_BUDGET_SHARE * free)


def device_bytes_per_pixel(session, net, geometry: NetGeometry) -> float:
    """Peak device bytes per window pixel, measured with one forward of a small window
    (twice the halo plus a few divisors: it fits wherever any tile does; its fixed costs make
    the figure a little pessimistic for big windows). A device too full even for that falls
    back to the host estimate, and the out-of-memory back-off takes it from there."""
    from unet_studio.models.devices import is_out_of_memory, release_memory

    probe = geometry.valid_window(tuple(2 * h + 4 * d for h, d in
                                        zip(geometry.halo, geometry.size_divisor)))
    try:
        return session.measure_bytes_per_pixel(probe, int(net.in_channels))
    except Exception as error:  # only memory errors are handled, the rest re-raised
        if not is_out_of_memory(error):
            raise
        release_memory(session.device)
        return host_bytes_per_pixel(net, geometry)


def choose_tile_shape(session, net, geometry: NetGeometry) -> tuple[int, ...]:
    """Core shape for ``net`` on ``session.device`` (see the module docstring).

    CUDA: as large as 60 % of the free memory holds, measured with one forward (bigger tiles
    keep a GPU busier); elsewhere the target-fraction core within the host budget.
    """
    budget = _device_budget(session)
    if budget is None:
        core = core_for_budget(geometry, host_bytes_per_pixel(net, geometry), host_memory_budget())
    else:
        per_pixel = device_bytes_per_pixel(session, net, geometry)
        core = core_for_budget(geometry, per_pixel, budget, fraction=None)
    log.info("automatic tile core %s on %s", core, session.device)
    return core


def default_batch(session, net, plan: TilePlan, geometry: NetGeometry) -> int:
    """Tiles per forward. CUDA: as many as the memory budget holds, at most MAX_BATCH (a
    bigger batch keeps the GPU busy). Host: small windows (the slices of a stack) batched up
    to ``HOST_BATCH_PIXELS``, at most MAX_HOST_BATCH; larger windows one at a time, since a
    CPU computes a batch no faster than its windows in turn but holds all their memory."""
    if len(plan) == 1:
        return 1
    window_pixels = math.prod(plan.window_shape)
    budget = _device_budget(session)
    if budget is None:
        per_window = host_bytes_per_pixel(net, geometry) * window_pixels
        limit = min(MAX_HOST_BATCH, max(1, HOST_BATCH_PIXELS // window_pixels))
        budget = host_memory_budget()
    else:
        per_window = device_bytes_per_pixel(session, net, geometry) * window_pixels
        limit = MAX_BATCH
    return int(max(1, min(limit, len(plan), budget // max(per_window, 1.0))))
