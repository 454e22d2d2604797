"""Tile plans: cores partition the image, windows share one shape and stay on the pooling grid."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models.tiling import (
    NetGeometry,
    gaussian_weights,
    make_plan,
    read_window,
    reflect_indices,
    subdivide,
)


def geometry(dims=2, divisor=8, halo=16, offset=0, padding="same", tile_exact=True):
    return NetGeometry(dims, (divisor,) * dims, (halo,) * dims, (offset,) * dims, padding, tile_exact)


def coverage(plan) -> np.ndarray:
    counts = np.zeros(plan.image_shape, dtype=np.int32)
    for tile in plan.tiles:
        counts[tile.core] += 1
    return counts


@pytest.mark.parametrize("size", [1, 2, 5, 8])
@pytest.mark.parametrize("start", [-20, -3, 0, 4])
def test_reflect_indices_match_numpy_reflect_padding_for_any_pad(size, start):
    pad = 30
    padded = np.pad(np.arange(size), pad, mode="reflect")
    stop = start + size + 17
    assert np.array_equal(reflect_indices(start, stop, size), padded[start + pad:stop + pad])


def test_read_window_equals_cropping_a_reflect_padded_image():
    rng = np.random.default_rng(0)
    image = rng.random((2, 13, 9)).astype(np.float32)  # (C, Y, X)
    padded = np.pad(image, [(0, 0), (20, 20), (20, 20)], mode="reflect")
    for start in [(-7, -5), (0, 0), (4, 3), (10, 6), (-20, 2)]:
        window = read_window(image, (), start, (16, 12))
        expected = padded[:, start[0] + 20:start[0] + 36, start[1] + 20:start[1] + 32]
        assert window.dtype == np.float32
        assert np.array_equal(window, expected)


def test_read_window_indexes_outer_axes():
    image = np.arange(3 * 1 * 4 * 5, dtype=np.uint16).reshape(3, 1, 4, 5)  # (Z, C, Y, X)
    assert np.array_equal(read_window(image, (2,), (0, 0), (4, 5)), image[2].astype(np.float32))


@pytest.mark.parametrize("shape,core", [((100, 77), 24), ((37, 130), 8), ((9, 200), 40)])
def test_exact_plan_partitions_image_with_one_aligned_window_shape(shape, core):
    geo = geometry()
    plan = make_plan("exact", shape, core, geo)
    assert (coverage(plan) == 1).all()
    padded = [int(np.ceil(s / 8) * 8) for s in shape]
    for tile in plan.tiles:
        for axis, c in enumerate(tile.core):
            start, window = tile.window_start[axis], plan.window_shape[axis]
            assert start % 8 == 0 and 0 <= start and start + window <= padded[axis]
            # Full halo of context, except where the window meets the (padded) image border.
            assert c.start - start >= 16 or start == 0
            assert start + window - c.stop >= 16 or start + window == padded[axis]


def test_tile_larger_than_image_is_one_tile_over_the_padded_image():
    plan = make_plan("exact", (37, 51), 1000, geometry())
    assert len(plan) == 1
    assert plan.window_shape == (40, 56)
    assert plan.tiles[0].core == (slice(0, 37), slice(0, 51))


def test_balanced_windows_cover_a_large_axis_with_the_fewest_pixels():
    geo = NetGeometry(2, (16, 16), (112, 112), (0, 0), "same", True)
    plan = make_plan("exact", (4096, 4096), 2048, geo)
    # Two windows per axis, each core + one halo of context: (4096 + 2 * 112) / 2 = 2160.
    assert plan.window_shape == (2160, 2160) and len(plan) == 4
    assert (coverage(plan) == 1).all()


def test_axis_where_core_plus_halo_reaches_the_image_gets_one_tile():
    plan = make_plan("exact", (40, 300), 16, geometry())
    assert plan.window_shape == (40, 48)
    assert {(t.core[0].start, t.core[0].stop) for t in plan.tiles} == {(0, 40)}


def test_valid_plan_lays_output_tiles_on_the_divisor_grid():
    geo = geometry(divisor=16, offset=44, padding="valid")
    plan = make_plan("valid", (150, 61), 40, geo)
    assert (coverage(plan) == 1).all()
    for tile in plan.tiles:
        assert all(o % 16 == 0 for o in tile.output_start)
        assert tile.window_start == tuple(o - 44 for o in tile.output_start)
        assert all(c.stop - c.start <= t for c, t in zip(tile.core, plan.output_tile_shape))


def test_blend_plan_overlaps_and_covers_every_pixel():
    plan = make_plan("blend", (120, 90), 16, geometry(tile_exact=False), overlap=0.25)
    counts = coverage(plan)
    assert counts.min() >= 1 and counts.max() > 1
    assert all(t.window_start == t.output_start for t in plan.tiles)


@pytest.mark.parametrize("mode,offset", [("exact", 0), ("valid", 20), ("blend", 0)])
def test_subdivide_splits_only_the_unfinished_tiles(mode, offset):
    geo = geometry(offset=offset, padding="valid" if offset else "same")
    plan = make_plan(mode, (130, 97), 48, geo)
    rest = plan.tiles[3:]
    smaller = subdivide(plan, rest, tuple(c // 2 for c in plan.core_shape), geo)
    assert len(smaller) > len(rest)
    assert all(n < o for n, o in zip(smaller.window_shape, plan.window_shape))
    before = np.zeros(plan.image_shape, np.int32)
    after = np.zeros(plan.image_shape, np.int32)
    for tile in rest:
        before[tile.core] = 1
    for tile in smaller.tiles:
        after[tile.core] += 1
    assert np.array_equal(after > 0, before > 0)
    if mode != "blend":
        assert after.max() == 1
        assert all(s % 8 == 0 for t in smaller.tiles for s in t.output_start)


def test_3d_plan_partitions_the_volume():
    plan = make_plan("exact", (21, 50, 45), (8, 16, 16), geometry(dims=3, divisor=4, halo=8))
    assert (coverage(plan) == 1).all()
    assert len({t.window_start for t in plan.tiles}) == len(plan)


def test_outer_indices_repeat_the_spatial_plan():
    plan = make_plan("exact", (40, 40), 8, geometry(halo=8), outers=[(0,), (1,), (2,)])
    per_outer = len(make_plan("exact", (40, 40), 8, geometry(halo=8)))
    assert len(plan) == 3 * per_outer
    assert plan.tiles[per_outer].outer == (1,)
    assert plan.tiles[per_outer].region[0] == slice(1, 2)


def test_gaussian_weights_peak_in_the_centre_and_stay_positive():
    weights = gaussian_weights((9, 12))
    assert weights.shape == (9, 12) and weights.min() > 0
    assert np.allclose(weights, weights[::-1, ::-1])
    assert weights[4, 5:7].max() == pytest.approx(weights.max())


def test_invalid_mode_and_overlap_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="exact"):
        make_plan("tiles", (10, 10), 8, geometry())
    with pytest.raises(ValueError, match="overlap"):
        make_plan("blend", (10, 10), 8, geometry(), overlap=1.0)
