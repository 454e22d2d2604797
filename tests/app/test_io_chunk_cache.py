"""Chunked OME-Zarr inputs are decoded about once per pass, in bounded memory: the cache of
decoded chunks gives exactly the pixels Zarr gives, and never holds more than its budget."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr

from unet_studio.app.io import open_stack, write_stack
from unet_studio.app.io.chunk_cache import CACHE_ENV, CachedChunks, ChunkCache


def _bytes_read() -> int:
    with open("/proc/self/io") as handle:
        return int(next(line for line in handle if line.startswith("rchar")).split()[1])


def _zarr_array(path, data, chunks):
    return zarr.create_array(str(path), data=data, chunks=chunks,
                             compressors=numcodecs.Blosc(cname="zstd", clevel=1),
                             zarr_format=2)


@pytest.fixture
def noise():
    return np.random.default_rng(3).integers(0, 2**16, (37, 45, 51), dtype=np.uint16)


def _random_key(rng, shape):
    """Ints, unit-step and strided slices, negative indices: what LazyArray and users ask."""
    key = []
    for n in shape:
        kind = rng.integers(4)
        if kind == 0:
            key.append(int(rng.integers(-n, n)))
        else:
            start, stop = sorted(int(v) for v in rng.integers(0, n + 1, 2))
            step = 1 if kind < 3 else int(rng.integers(1, 4))
            key.append(slice(start, stop, step))
    return tuple(key)


def test_cached_reads_give_the_pixels_zarr_gives(tmp_path, noise):
    array = _zarr_array(tmp_path / "a.zarr", noise, (16, 16, 20))
    cached = CachedChunks(array, ChunkCache(200_000))  # ~ a third of the array: it evicts
    rng = np.random.default_rng(0)
    for _ in range(300):
        key = _random_key(rng, noise.shape)
        got = cached[key]
        np.testing.assert_array_equal(got, np.asarray(array[key]))
        np.testing.assert_array_equal(got, noise[key])
        if isinstance(got, np.ndarray):  # (all ints give a scalar, as from numpy)
            assert got.flags.writeable  # a copy: changing it cannot touch the cached chunks
    assert cached.cache.hits > 0 and 0 < cached.cache.nbytes <= cached.cache.max_bytes


def test_cache_never_holds_more_than_its_budget(tmp_path, noise):
    array = _zarr_array(tmp_path / "a.zarr", noise, (16, 16, 20))  # chunks of 10 KiB or less
    full_chunk = 16 * 16 * 20 * 2
    cache = ChunkCache(3 * full_chunk + 100)  # room for 3 whole chunks
    cached = CachedChunks(array, cache)
    held = []
    for z in range(noise.shape[0]):
        for y in range(0, noise.shape[1], 7):
            np.testing.assert_array_equal(cached[z, y:y + 7, :], noise[z, y:y + 7, :])
            held.append(cache.nbytes)
            assert cache.nbytes <= cache.max_bytes
    assert max(held) > 2 * full_chunk  # it did fill up to the budget
    assert sum(chunk.nbytes for chunk in cache._chunks.values()) == cache.nbytes
    cache.clear()
    assert cache.nbytes == 0 and len(cache) == 0


def test_a_chunk_row_is_decoded_once_when_planes_are_read_one_by_one(tmp_path, noise):
    """A 2D network reads one plane (tile) at a time: the 16-plane chunks under it are read
    from disk once, not once per plane (measured in bytes read by the process)."""
    array = _zarr_array(tmp_path / "a.zarr", noise, (16, 45, 51))
    cached = CachedChunks(array, ChunkCache(16 * 2**20))
    stored = sum(p.stat().st_size for p in (tmp_path / "a.zarr").rglob("*") if p.is_file())
    cached[0, 0, 0]  # zarr's first read imports codecs, whose files count as reads
    before = _bytes_read()
    for z in range(noise.shape[0]):
        for y in range(0, 45, 15):  # three tiles per plane
            np.testing.assert_array_equal(cached[z, y:y + 15], noise[z, y:y + 15])
    assert _bytes_read() - before < 1.5 * stored  # uncached: ~16 x 3 times the file
    assert cached.cache.misses == 3  # one decode per chunk


def test_big_and_strided_reads_go_straight_to_the_array(tmp_path, noise):
    array = _zarr_array(tmp_path / "a.zarr", noise, (16, 16, 20))
    cache = ChunkCache(noise.nbytes)  # a whole-stack read is more than half of it
    cached = CachedChunks(array, cache)
    np.testing.assert_array_equal(cached[:, :, :], noise)
    np.testing.assert_array_equal(cached[::3, 1::2, 5], noise[::3, 1::2, 5])
    assert len(cache) == 0 and cache.misses == 0


def test_opened_zarr_reads_through_one_cache_emptied_on_close(tmp_path, noise, monkeypatch):
    path = write_stack(tmp_path / "n.zarr", noise, axes="ZYX", kind="image", pyramid_levels=2)
    monkeypatch.setenv(CACHE_ENV, "0.05")  # 50 KiB: a few of its 16 x 45 x 51 chunks
    stack = open_stack(path)
    cache = stack.data._source.cache
    assert stack.levels[1]._source.cache is cache  # one budget for every level
    rng = np.random.default_rng(1)
    for _ in range(50):
        z, y = int(rng.integers(37)), int(rng.integers(40))
        np.testing.assert_array_equal(stack.data[z, y:y + 5], noise[z, y:y + 5])
        np.testing.assert_array_equal(stack.levels[1][z, :4], noise[z, :8:2, ::2])
        assert cache.nbytes <= 0.05 * 2**20
    assert cache.hits > 0
    stack.close()
    assert cache.nbytes == 0


def test_cache_size_from_the_environment(monkeypatch, tmp_path, noise):
    from unet_studio.app.io.chunk_cache import cache_bytes_from_environment

    monkeypatch.setenv(CACHE_ENV, "1.5")
    assert cache_bytes_from_environment() == int(1.5 * 2**20)
    monkeypatch.setenv(CACHE_ENV, "0")  # off: every read goes to Zarr, same pixels
    stack = open_stack(write_stack(tmp_path / "n.zarr", noise, axes="ZYX", kind="image"))
    np.testing.assert_array_equal(stack.data[3, 2:9], noise[3, 2:9])
    assert len(stack.data._source.cache) == 0
    for bad in ("lots", "-1"):
        monkeypatch.setenv(CACHE_ENV, bad)
        with pytest.raises(ValueError, match=CACHE_ENV):
            cache_bytes_from_environment()


def _ome_zarr(path, data, chunks):
    """An OME-Zarr (ZYX) of ``data`` in ``chunks``: other writers chunk as they like."""
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    group.create_array("0", data=data, chunks=chunks,
                       compressors=numcodecs.Blosc(cname="zstd", clevel=1))
    group.attrs["multiscales"] = [{"version": "0.4", "datasets": [{"path": "0"}],
                                   "axes": [{"name": a, "type": "space"} for a in "zyx"]}]
    return path


def test_an_opened_zarr_tells_its_chunks_and_how_many_the_cache_holds(tmp_path, noise,
                                                                      monkeypatch):
    from unet_studio.app.io import select
    from unet_studio.app.predict_files import input_chunks

    monkeypatch.setenv(CACHE_ENV, "1")
    path = write_stack(tmp_path / "n.zarr", noise, axes="ZYX", kind="image")
    stack = open_stack(path)
    grid = input_chunks(stack.data)  # the app's chunks (16 planes), 1 MiB of 16 x 45 x 51 uint16
    assert grid.shape == (16, 45, 51) and grid.offset == (0, 0, 0)
    assert grid.held == 2**20 // (16 * 45 * 51 * 2)
    part = select(stack, z=(5, 30))
    assert input_chunks(part.data).offset == (5, 0, 0)  # the slab boundaries stay the file's
    assert stack.data.view((slice(None, None, 2),)).chunk_grid() is None  # strided: none
    monkeypatch.setenv(CACHE_ENV, "0")  # the cache off: ordering cannot help
    assert input_chunks(open_stack(path).data) is None
    tiff = write_stack(tmp_path / "n.tif", noise, axes="ZYX", kind="image")
    assert input_chunks(open_stack(tiff).data) is None


def test_predict_from_a_zarr_decodes_each_chunk_about_once_with_a_small_cache(
        tmp_path, model_dir, monkeypatch):
    """Planes of 3 x 4 chunks, a cache of 10 of them (less than a plane's): the prediction
    decodes each chunk about once, not once per plane, and writes what a TIFF input gives."""
    from types import SimpleNamespace

    from unet_studio.app import predict_files
    from unet_studio.models.weights import load_model

    pixels = np.random.default_rng(4).integers(0, 4000, (16, 192, 256), dtype=np.uint16)
    source = _ome_zarr(tmp_path / "deep.zarr", pixels, (8, 64, 64))  # 2 x 12 chunks
    monkeypatch.setenv(CACHE_ENV, str(10 * 8 * 64 * 64 * 2 / 2**20))
    net = load_model(model_dir)
    options = SimpleNamespace(output_type="probabilities", tile=32, device="cpu", tta=False)
    decodes, results = {}, {}
    for name, chunks in (("chunk order", predict_files.input_chunks), ("plane order", None)):
        if chunks is None:  # what the run did before: no chunks handed to the engine
            monkeypatch.setattr(predict_files, "input_chunks", lambda stack: None)
        stack = open_stack(source)
        predict_files.predict_one(net, stack, tmp_path / f"{name}.tif", options)
        decodes[name] = stack.data._source.cache.misses
        results[name] = open_stack(tmp_path / f"{name}.tif").to_numpy()
        stack.close()
    assert decodes["plane order"] >= 4 * 24  # (8 planes a chunk: up to 8 x 24)
    assert decodes["chunk order"] <= 1.25 * 24
    np.testing.assert_array_equal(results["chunk order"], results["plane order"])


def test_the_intensity_pass_reads_whole_chunks_and_decodes_each_once(tmp_path, monkeypatch):
    """A stack in chunks 8 planes deep, a cache of 10 chunks (less than a plane's 12), the
    exact percentiles read a plane's worth of pixels at a time: in whole chunks each chunk
    is decoded once (in whole planes: once per plane), and the percentiles stay exact, of
    the whole stack and of a view starting inside a chunk."""
    from unet_studio.app.io import select
    from unet_studio.models.percentiles import exact_percentiles

    pixels = np.random.default_rng(5).integers(0, 60000, (16, 192, 256), dtype=np.uint16)
    source = _ome_zarr(tmp_path / "deep.zarr", pixels, (8, 64, 64))  # 2 x 12 chunks
    monkeypatch.setenv(CACHE_ENV, str(10 * 8 * 64 * 64 * 2 / 2**20))
    for box in ({}, {"z": (3, 13)}):
        stack = open_stack(source)
        view = select(stack, **box) if box else stack
        census = exact_percentiles(view.data, [1, 99.8], block_pixels=192 * 256)
        expected = pixels[slice(*box["z"])] if box else pixels
        np.testing.assert_array_equal(census.percentiles[0], np.percentile(expected, [1, 99.8]))
        assert stack.data._source.cache.misses <= 24  # (each chunk once)
        stack.close()


def test_the_segment_panel_run_on_a_zarr_decodes_each_chunk_a_few_times(tmp_path, model_dir,
                                                                        monkeypatch):
    """What the Segment panel runs (``iter_segment``) on an OME-Zarr layer, with a cache of
    10 chunks (less than a plane's 12): the plane on screen first, then chunk by chunk, each
    chunk is decoded under 3 times (in the plane order: 24 times, 576 decodes)."""
    from unet_studio.app.host import FakeHost, full_view
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.segment_logic import SegmentRequest, iter_segment, plan_job
    from unet_studio.models.generators import drain

    pixels = np.random.default_rng(6).integers(0, 4000, (16, 192, 256), dtype=np.uint16)
    source = _ome_zarr(tmp_path / "deep.zarr", pixels, (8, 64, 64))  # 2 x 12 chunks
    monkeypatch.setenv(CACHE_ENV, str(10 * 8 * 64 * 64 * 2 / 2**20))
    stack = open_stack(source)
    host = FakeHost()
    host.add_image(stack.data, "ZYX", name="deep")
    request = SegmentRequest(model_path=str(model_dir), device="cpu", tile=32,
                             output_type="probabilities")
    job = plan_job(host.image, request, full_view(pixels.shape), "ZYX")
    result = drain(iter_segment(job, library=ModelLibrary(home=tmp_path / "home")))
    assert result.output.shape[-3:] == pixels.shape
    assert stack.data._source.cache.misses <= 3 * 24
    stack.close()
