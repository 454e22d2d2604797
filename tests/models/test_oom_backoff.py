"""Out of memory: the tile back-off keeps shrinking down to the truly smallest exact window.

An axis shorter than about core + 2 halo stays one whole-axis window however often its core
is halved; the back-off used to stall there and give up (a MemoryError on the CPU, a needless
move to the CPU on a GPU) while a smaller window still fitted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from unet_studio.models import exactness
from unet_studio.models.inference import _smaller_core, predict_tiled
from unet_studio.models.tiling import NetGeometry, make_plan, subdivide


def _untiled(net, image: np.ndarray) -> np.ndarray:
    """Same-padding network once over the reflect-padded image, cropped back."""
    pads = [(0, p - s) for p, s in zip(net.valid_input_shape(image.shape), image.shape)]
    with torch.no_grad():
        y = net(torch.from_numpy(np.pad(image, pads, mode="reflect"))[None, None])
    return y[0].numpy()[(slice(None), *[slice(0, s) for s in image.shape])]


def test_short_axis_does_not_stall_the_back_off_and_the_result_stays_exact(memory_limited):
    # halo 24, divisor 4: the 70-pixel axis is one 72-pixel window for every core >= 28, so
    # halving its core from 72 never shrank it. The smallest window, (52, 52), fits the limit.
    net = exactness.random_bn_net("unet", seed=0, base_channels=4, depth=2, spatial_dims=2)
    geometry = NetGeometry.from_net(net)
    assert geometry.halo == (24, 24) and geometry.size_divisor == (4, 4)
    image = np.random.default_rng(21).random((100, 70), dtype=np.float32)
    limited = memory_limited(net, max_pixels=52 * 60)
    out = predict_tiled(limited, image, tile_shape=100, batch_size=1, device="cpu")
    assert limited.refused >= 1
    assert all(math.prod(w) <= limited.max_pixels for w in limited.ran)
    # It stopped at the first window that fitted, not jumping to the (many) smallest tiles.
    assert max(math.prod(w) for w in limited.ran) > 52 * 52
    reference = _untiled(net, image)
    assert float(np.abs(out - reference).max() / np.abs(reference).max()) <= 1e-5


@pytest.mark.parametrize(("dims", "shape", "core"), [
    (2, (100, 70), 100),       # one tile, one short axis
    (2, (90, 150), (95, 35)),  # a short axis beside a long one tiled from the start
    (3, (6, 69, 45), 69),      # 3D: a short axis beside two whose window cannot shrink
])
def test_repeated_back_off_reaches_the_smallest_layout(dims, shape, core):
    net = exactness.random_bn_net("unet", seed=0, base_channels=2, depth=2, spatial_dims=dims)
    geometry = NetGeometry.from_net(net)
    plan = make_plan("exact", shape, core, geometry)
    while (smaller := _smaller_core(plan, geometry)) is not None:
        shrunk = subdivide(plan, plan.tiles, smaller, geometry)
        assert math.prod(shrunk.window_shape) < math.prod(plan.window_shape)
        plan = shrunk
    smallest = make_plan("exact", shape, geometry.size_divisor, geometry)
    assert plan.window_shape == smallest.window_shape
