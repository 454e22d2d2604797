"""Tiles ordered by the input's chunks: each chunk of a stack stored several planes deep is
decoded about once, and the result is the one of the plane-by-plane order."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr

from unet_studio.app.io.chunk_cache import CachedChunks, ChunkCache
from unet_studio.app.io.lazy import LazyArray
from unet_studio.models.chunk_order import ChunkGrid, strip_width
from unet_studio.models.inference import predict_image
from unet_studio.models.tiling import NetGeometry, make_plan

GEOMETRY = NetGeometry(2, (4, 4), (8, 8), (0, 0), "same", True)
SHAPE = (96, 128)  # (Y, X) of a plane: 3 x 4 chunks of 32 x 32


def _plan(chunks=None, first=None, planes=8, core=16):
    return make_plan("exact", SHAPE, core, GEOMETRY, outers=[(z,) for z in range(planes)],
                     first=first, chunks=chunks)


def _cell(tile, side=32):
    return tuple(c.start // side for c in tile.core)


def test_tiles_run_slab_by_slab_and_cell_by_cell_over_all_planes_of_the_slab():
    plain = _plan()
    ordered = _plan(ChunkGrid((4, 32, 32)))  # 4-plane chunks, nothing said of the cache
    assert sorted(map(repr, ordered.tiles)) == sorted(map(repr, plain.tiles))
    slabs = [t.outer[0] // 4 for t in ordered.tiles]
    assert slabs == sorted(slabs)  # slab 0 done before slab 1 starts
    runs = [(t.outer[0] // 4, _cell(t)) for t in ordered.tiles]
    changes = [a for a, b in zip(runs, runs[1:]) if a != b]
    assert len(changes) + 1 == 2 * 12  # each cell of each slab once, in one go
    first_cell = [t for t in ordered.tiles if runs[ordered.tiles.index(t)] == runs[0]]
    assert {t.outer[0] for t in first_cell} == {0, 1, 2, 3}  # all planes of the slab
    # ... one tile over the slab's planes, then the next (a few chunks under one window)
    assert [t.outer[0] for t in first_cell[:4]] == [0, 1, 2, 3]
    assert len({repr(t.core) for t in first_cell[:4]}) == 1
    # One-plane chunks: a plane's tiles meet one plane of each chunk, the plan order is kept.
    assert _plan(ChunkGrid((1, 32, 32))).tiles == plain.tiles


def test_a_small_cache_runs_strips_of_chunk_columns():
    grid = ChunkGrid((4, 32, 32), held=8)  # a row of cells meets 3 x 6 chunks: too many
    plan = _plan(grid)
    width = strip_width(plan.tiles, grid, plan.window_shape, SHAPE)
    assert 1 <= width < 4
    assert strip_width(plan.tiles, ChunkGrid((4, 32, 32), held=100), plan.window_shape,
                       SHAPE) == 4
    columns = [_cell(t)[1] // width for t in plan.tiles if t.outer[0] < 4]
    assert columns == sorted(columns)  # strip after strip, each top to bottom


def test_visible_slice_still_runs_first_then_its_slab_then_the_nearest_slabs():
    first = (slice(5, 6), slice(30, 60), slice(40, 90))
    around = _plan(first=first)
    both = _plan(ChunkGrid((4, 32, 32)), first=first, planes=16)
    per_plane = len(_plan(planes=1))
    visible = [t for t in both.tiles[:per_plane]]
    assert visible == [t for t in around.tiles[:per_plane]]  # as without chunks
    rest = both.tiles[per_plane:]
    slabs = [t.outer[0] // 4 for t in rest]
    assert slabs[:3 * per_plane] == [1] * (3 * per_plane)  # the rest of slab 1 (planes 4-7)
    assert slabs[3 * per_plane:] == sorted(slabs[3 * per_plane:], key=lambda s: abs(s - 1))
    assert sorted(map(repr, both.tiles)) == sorted(map(repr, _plan(planes=16).tiles))


def test_a_grid_needs_an_extent_per_tile_axis():
    with pytest.raises(ValueError, match="one extent per tile axis"):
        _plan(ChunkGrid((32, 32)))
    with pytest.raises(ValueError, match="extent >= 1"):
        ChunkGrid((0, 32, 32))


@pytest.fixture(scope="module")
def tiny_net():
    import torch

    from unet_studio.models.registry import build_model

    torch.manual_seed(0)
    return build_model("unet", spatial_dims=2, base_channels=4, depth=2).eval()


@pytest.fixture
def deep_store(tmp_path):
    """(pixels, Zarr array): 12 planes of 150 x 170 in chunks of 4 x 32 x 32."""
    pixels = np.random.default_rng(0).integers(0, 1000, (12, 150, 170), dtype=np.uint16)
    array = zarr.create_array(str(tmp_path / "deep.zarr"), data=pixels, chunks=(4, 32, 32),
                              compressors=numcodecs.Blosc(cname="zstd", clevel=1), zarr_format=2)
    return pixels, array


def _predict(net, array, held, ordered: bool, output_type="probabilities"):
    """(result, chunks decoded) of a run reading ``array`` through a cache of ``held``
    chunks, with the tiles in chunk order or in the plan's."""
    cache = ChunkCache(held * 4 * 32 * 32 * 2)
    image = LazyArray(CachedChunks(array, cache), "deep.zarr")
    grid = image.chunk_grid() if ordered else None
    result = predict_image(net, image, axes="ZYX", output_type=output_type, tile_shape=16,
                           device="cpu", chunks=grid)
    return result, cache.misses


@pytest.mark.slow
def test_chunk_order_decodes_each_chunk_about_once_with_the_same_result(tiny_net, deep_store):
    """A cache of 16 chunks holds about half of the 30 chunks under one plane: in plane
    order every chunk is decoded again for each of its 4 planes; in chunk order about once."""
    pixels, array = deep_store
    chunks = 3 * 5 * 6
    plain, plain_decodes = _predict(tiny_net, array, 16, ordered=False)
    ordered, decodes = _predict(tiny_net, array, 16, ordered=True)
    np.testing.assert_array_equal(ordered, plain)
    assert plain_decodes >= 3.5 * chunks
    assert decodes <= 1.2 * chunks


@pytest.mark.slow
def test_chunk_ordered_labels_equal_the_plain_ones(tiny_net, deep_store):
    """Labels (two masks kept per tile, one watershed at the end) in chunk order."""
    _, array = deep_store
    plain, plain_decodes = _predict(tiny_net, array, 16, ordered=False, output_type="labels")
    ordered, decodes = _predict(tiny_net, array, 16, ordered=True, output_type="labels")
    np.testing.assert_array_equal(ordered, plain)
    assert plain.max() > 0
    assert decodes <= 1.2 * 3 * 5 * 6 < plain_decodes


def test_a_view_starting_inside_a_chunk_keeps_the_grid(tiny_net, deep_store):
    """Planes 2-10 of the store: its slabs are planes 2-3, 4-7, 8-9 (chunk boundaries at
    4 and 8 of the file), and the chunks are still decoded about once."""
    pixels, array = deep_store
    cache = ChunkCache(16 * 4 * 32 * 32 * 2)
    image = LazyArray(CachedChunks(array, cache), "deep.zarr").view((slice(2, 10), slice(5, None)))
    grid = image.chunk_grid()
    assert grid.shape == (4, 32, 32) and grid.offset == (2, 5, 0)
    plan = make_plan("exact", image.shape[1:], 16, GEOMETRY, outers=[(z,) for z in range(8)],
                     chunks=grid)
    slabs = [grid.index(0, t.outer[0]) for t in plan.tiles]
    assert slabs == sorted(slabs) and sorted(set(slabs)) == [0, 1, 2]
    assert {t.outer[0] for t in plan.tiles if grid.index(0, t.outer[0]) == 0} == {0, 1}
    result = predict_image(tiny_net, image, axes="ZYX", output_type="probabilities",
                           tile_shape=16, device="cpu", chunks=grid)
    assert cache.misses <= 1.2 * 3 * 5 * 6
    plain = predict_image(tiny_net, pixels[2:10, 5:], axes="ZYX", output_type="probabilities",
                          tile_shape=16, device="cpu")
    np.testing.assert_array_equal(result, plain)
