"""What a ``--tile`` smaller than the network's halo costs, said before the run (Qt-free).

Every tile is computed with ``halo`` pixels of context on each side and only its core is
kept, so a core much smaller than the halo computes mostly context: ``--tile 7`` with the
bundled model (halo 112 px) keeps 16 x 16 cores of windows up to 240 x 240, 1650 tiles for
a 700 x 1100 frame that compute 123 times its pixels. It is warned about, not refused: the result is
the same whatever the tile (tiling is exact), and a small tile may be what a small GPU
allows; the user should know the price and a better size.
"""

from __future__ import annotations

import math


def small_tile_warning(net, tile: int, spatial_shape: tuple[int, ...], name: str) -> str | None:
    """A warning when the core ``tile`` (pixels per spatial axis, as ``--tile`` gives it) is
    smaller than ``net``'s halo on some axis, with the work it multiplies, the tiles it makes
    for one image of ``spatial_shape`` (named ``name``) and a sensible size; else None."""
    from unet_studio.models.inference import plan_mode
    from unet_studio.models.tiling import NetGeometry, make_plan, round_down

    geometry = NetGeometry.from_net(net)
    cores = tuple(round_down(tile, d) for d in geometry.size_divisor)  # (as the tiler does)
    if all(c >= h for c, h in zip(cores, geometry.halo)):
        return None
    plan = make_plan(plan_mode(geometry, "auto"), spatial_shape, cores, geometry)
    if len(plan) == 1:  # (the whole image in one window: the tile costs nothing)
        return None
    work = len(plan) * math.prod(plan.window_shape) / math.prod(spatial_shape)
    tiles = len(plan)
    halo = max(geometry.halo)
    # Twice the halo: the overlap then costs at most ~2x per axis (the floor the automatic
    # choice keeps too, models.tile_size.core_for_budget).
    advice = round_down(2 * halo, max(geometry.size_divisor))
    shape = " x ".join(str(n) for n in spatial_shape)
    return (f"--tile {tile} is much smaller than the model's halo ({halo} px of context on "
            f"each side of a tile): the tiles compute {work:.0f}x the image's pixels, "
            f"{tiles} tiles for {name} ({shape}); use --tile {advice} or more, or leave "
            "--tile out to choose it from memory")
