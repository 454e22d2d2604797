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
