"""The automatic tile: small halo overhead, bounded by memory, exact, on CPU and (its logic) CUDA.

The CUDA branch decides from what the device reports (free memory, bytes per pixel measured
with a forward); here a CPU session reports chosen figures, so the arithmetic and the
fall-backs run in CI, where there is no GPU.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from unet_studio.models import devices, exactness, tile_size
from unet_studio.models.inference import iter_predict, predict_tiled, prepare_plan
from unet_studio.models.registry import build_model
from unet_studio.models.tile_runner import InferenceSession
from unet_studio.models.tiling import NetGeometry


def core_fraction(core: int, halo: int, dims: int) -> float:
    return (core / (core + 2 * halo)) ** dims


@pytest.fixture(scope="module")
def depth4():
    """A depth-4 U-Net: halo 112, divisor 16 (the geometry of the issue's base-32 net)."""
    net = build_model("unet", spatial_dims=2, out_channels=3, depth=4, base_channels=4)
    return net, NetGeometry.from_net(net)


def test_core_is_the_smallest_reaching_the_fraction_when_memory_allows(depth4):
    _, geometry = depth4
    (core, _), (halo, _), (divisor, _) = (tile_size.core_for_budget(geometry, 400.0, 1e12),
                                          geometry.halo, geometry.size_divisor)
    assert core % divisor == 0
    assert core_fraction(core, halo, 2) >= tile_size.CORE_FRACTION
    assert core_fraction(core - divisor, halo, 2) < tile_size.CORE_FRACTION
    # No target (the GPU rule): as large as the budget holds.
    unbounded = tile_size.core_for_budget(geometry, 400.0, 1e12, fraction=None)
    assert unbounded[0] > 10 * core


def test_core_shrinks_to_what_the_budget_holds_but_not_below_twice_the_halo(depth4):
    _, geometry = depth4
    halo, divisor = geometry.halo[0], geometry.size_divisor[0]
    budget, per_pixel = 1.2e9, 1300.0
    core = tile_size.core_for_budget(geometry, per_pixel, budget)[0]
    assert (core + 2 * halo) ** 2 * per_pixel <= budget
    assert (core + divisor + 2 * halo) ** 2 * per_pixel > budget  # the largest that fits
    assert tile_size.core_for_budget(geometry, per_pixel, 1e6) == (2 * halo, 2 * halo)


def test_host_batches_small_slices_only(depth4):
    """On the CPU the slices of a stack are batched while small (a batch of 256^2 slices ran
    the default model 20 % faster), never when large (1024^2: slower, twice the memory)."""
    net, _ = depth4
    with InferenceSession(net, device="cpu") as session:
        small = prepare_plan(session, net, (256, 256), outers=[(z,) for z in range(12)])[2]
        large = prepare_plan(session, net, (1024, 1024), outers=[(z,) for z in range(12)])[2]
    assert small == tile_size.HOST_BATCH_PIXELS // 256**2 == 4
    assert large == 1


def test_host_budget_is_a_share_of_available_memory_within_bounds():
    assert tile_size.host_memory_budget(available=8 * 2**30) == 2 * 2**30
    assert tile_size.host_memory_budget(available=2**40) == tile_size.HOST_BUDGET_MAX
    assert tile_size.host_memory_budget(available=2**20) == tile_size.HOST_BUDGET_MIN
    assert tile_size.host_memory_budget() >= tile_size.HOST_BUDGET_MIN


def test_host_estimate_follows_the_width_and_matches_the_measured_cpu_peak():
    estimates = []
    for base in (8, 32):
        net = build_model("unet", spatial_dims=2, out_channels=3, depth=4, base_channels=base)
        estimates.append(tile_size.host_bytes_per_pixel(net, NetGeometry.from_net(net)))
    # Measured peak RSS growth per window pixel of one forward (fp32, torch 2.13 CPU):
    # base 8 374-396 B, base 32 1127-1272 B (benchmarks/results/tiling.md).
    assert 370 <= estimates[0] <= 480 and 1150 <= estimates[1] <= 1450


def test_automatic_tile_on_the_cpu_tiles_exactly_under_a_small_budget(monkeypatch):
    net = exactness.random_bn_net("unet", spatial_dims=2, depth=2, base_channels=4, seed=4)
    image = np.random.default_rng(5).random((203, 150), dtype=np.float32)
    whole = predict_tiled(net, image, tile_shape=10**6, device="cpu")  # one tile: untiled
    monkeypatch.setattr(tile_size, "host_memory_budget", lambda available=None: 4 * 2**20)
    steps = list(iter_predict(net, image, device="cpu"))
    assert steps[-1].total > 1
    tiled = predict_tiled(net, image, device="cpu")
    assert np.abs(tiled - whole).max() <= 1e-5 * np.abs(whole).max()


class _ReportingSession(InferenceSession):
    """A CPU session that reports device memory figures as CUDA would (``free`` bytes, and
    ``per_pixel`` bytes per pixel from a forward, or that forward running out of memory)."""

    def __init__(self, net, per_pixel: float | None):
        super().__init__(net, "cpu")
        self.per_pixel, self.measured = per_pixel, []

    def measure_bytes_per_pixel(self, window_shape, in_channels):
        self.measured.append(tuple(window_shape))
        if self.per_pixel is None:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return self.per_pixel


def test_gpu_rule_sizes_tiles_and_batches_from_free_memory(monkeypatch):
    net = exactness.random_bn_net("unet", spatial_dims=2, depth=2, base_channels=4, seed=6)
    geometry = NetGeometry.from_net(net)
    free = 64 * 2**20
    monkeypatch.setattr(devices, "free_memory_bytes", lambda device: free)
    image = np.random.default_rng(7).random((700, 260), dtype=np.float32)
    with _ReportingSession(net, per_pixel=200.0) as session:
        plan, _, batch = prepare_plan(session, net, image.shape)
    budget = tile_size.DEVICE_BUDGET_SHARE * free
    assert math.prod(plan.window_shape) * 200.0 <= budget  # the window fits the budget
    assert len(plan) > 1 and 1 <= batch <= budget // (math.prod(plan.window_shape) * 200.0)
    probe = max(math.prod(w) for w in session.measured)
    assert probe < math.prod(plan.window_shape)  # measured on a small window, never the big one
    # No fraction target on a GPU: the largest core the budget holds (before balancing).
    with _ReportingSession(net, per_pixel=200.0) as session:
        core = tile_size.choose_tile_shape(session, net, geometry)[0]
    halo, divisor = geometry.halo[0], geometry.size_divisor[0]
    assert (core + 2 * halo) ** 2 * 200.0 <= budget < (core + divisor + 2 * halo) ** 2 * 200.0


def test_gpu_rule_falls_back_to_the_host_estimate_when_measuring_runs_out(monkeypatch):
    net = exactness.random_bn_net("unet", spatial_dims=2, depth=2, base_channels=4, seed=6)
    geometry = NetGeometry.from_net(net)
    monkeypatch.setattr(devices, "free_memory_bytes", lambda device: 16 * 2**20)
    with _ReportingSession(net, per_pixel=None) as session:
        per_pixel = tile_size.device_bytes_per_pixel(session, net, geometry)
        core = tile_size.choose_tile_shape(session, net, geometry)
    assert per_pixel == tile_size.host_bytes_per_pixel(net, geometry)
    window = core[0] + 2 * geometry.halo[0]
    assert window**2 * per_pixel <= tile_size.DEVICE_BUDGET_SHARE * 16 * 2**20
