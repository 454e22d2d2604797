"""Opening reads no pixels; lazy views read only what is indexed; selection helpers."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tifffile

from unet_studio.app.errors import UserError
from unet_studio.app.io import LazyArray, open_stack, write_stack
from unet_studio.app.io.select import Selection, loop_axes, read_input, select, spatial_axes


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def _bytes_read() -> int:
    """Bytes this process has read through read() calls so far (Linux /proc/self/io)."""
    with open("/proc/self/io") as handle:
        return int(next(line for line in handle if line.startswith("rchar")).split()[1])


def test_opening_a_2gb_sparse_tiff_reads_no_pixels(tmp_path):
    path = tmp_path / "big.tif"
    shape = (128, 2048, 4096)  # 2 GiB of uint16, a sparse file: no pixel bytes on disk
    tifffile.imwrite(path, shape=shape, dtype=np.uint16, imagej=True, metadata={"axes": "ZYX"})
    assert path.stat().st_size > 2**31
    rss, read = _rss_bytes(), _bytes_read()
    start = time.perf_counter()
    stack = open_stack(path)
    elapsed = time.perf_counter() - start
    assert stack.lazy and stack.shape == shape and stack.axes == "ZYX"
    assert elapsed < 0.5, f"opening took {elapsed:.3f} s"
    assert _rss_bytes() - rss < 32 * 2**20
    assert _bytes_read() - read < 2**20
    plane = stack.data[100, 1000:1010, 2000:2010]  # pages in only what is touched
    assert plane.shape == (10, 10) and not plane.any()
    assert _rss_bytes() - rss < 64 * 2**20


def test_chunked_file_decodes_only_indexed_planes(tmp_path, monkeypatch):
    from unet_studio.app.io import tiff

    monkeypatch.setattr(tiff, "_DECODE_WHOLE_BELOW", 0)  # as for a file of many megabytes
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 2**16, (16, 256, 256), dtype=np.uint16)  # incompressible: 2 MiB
    path = tmp_path / "noise.tif"
    tifffile.imwrite(path, noise, compression="zlib", metadata={"axes": "ZYX"})
    stack = open_stack(path)
    assert stack.metadata["lazy_mode"] == "chunked" and isinstance(stack.data, LazyArray)
    stack.data[0, 0, 0]  # the first read imports zarr, whose files would count as reads
    read = _bytes_read()
    np.testing.assert_array_equal(stack.data[7, 100:120], noise[7, 100:120])
    assert _bytes_read() - read < path.stat().st_size / 4


@pytest.mark.parametrize("key", [
    (3,), (slice(2, 9, 3),), (Ellipsis, 5), (1, slice(None, None, -2)), (-1, slice(4, 1, -1), 7),
    (slice(None), 0, slice(3, 3)), (np.int64(2), Ellipsis), (slice(-5, None), slice(1, -1), 2),
])
def test_lazy_views_compose_like_numpy(tmp_path, key):
    data = np.arange(10 * 12 * 9, dtype=np.int32).reshape(10, 12, 9)
    stack = open_stack(write_stack(tmp_path / "a.zarr", data, axes="ZYX", kind="image"))
    lazy = stack.data
    np.testing.assert_array_equal(lazy[key], data[key])
    outer = (slice(1, 9), slice(None, None, -1))  # a view of a view reads the same pixels
    np.testing.assert_array_equal(lazy.view(outer)[key[:2]], data[outer][key[:2]])
    assert lazy.view(outer).shape == data[outer].shape


def test_selection_channel_time_z_and_interpretation(tmp_path):
    data = np.arange(3 * 4 * 2 * 6 * 5, dtype=np.uint16).reshape(3, 4, 2, 6, 5)
    stack = open_stack(write_stack(tmp_path / "h.tif", data, axes="TZCYX", kind="image",
                                   scale={"Z": 2.0, "Y": 0.5, "X": 0.5}))
    chosen = select(stack, Selection(channel=1, time=(1, 3), z=(1, 4)))
    assert chosen.axes == "TZYX" and chosen.shape == (2, 3, 6, 5)
    assert chosen.metadata["spatial_dims"] == 3 and chosen.scale["Z"] == 2.0
    np.testing.assert_array_equal(read_input(chosen), data[1:3, 1:4, 1])
    one_plane = select(stack, time=0, z=2, channel=(0, 1))
    assert one_plane.axes == "CYX" and one_plane.metadata["spatial_dims"] == 2
    np.testing.assert_array_equal(one_plane.to_numpy(), data[0, 2])
    as_2d = select(stack, channel=0, spatial_dims=2)
    assert spatial_axes(as_2d.axes, 2) == "YX" and loop_axes(as_2d.axes, 2) == "TZ"
    assert spatial_axes(as_2d.axes, 3) == "ZYX" and loop_axes(as_2d.axes, 3) == "T"
    with pytest.raises(UserError, match="needs a Z axis"):
        select(stack, z=0, spatial_dims=3)
    with pytest.raises(UserError, match="out of range"):
        select(stack, channel=5)
    with pytest.raises(ValueError, match="evenly spaced"):
        Selection(channel=(0, 1, 3))


def test_selection_on_memory_map_stays_a_view(tmp_path):
    data = np.arange(4 * 6 * 7, dtype=np.uint16).reshape(4, 6, 7)
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "ZYX"})
    stack = open_stack(path)
    assert isinstance(stack.data, np.memmap)
    chosen = select(stack, z=(1, 3))
    assert isinstance(chosen.data, np.memmap) and chosen.data.base is not None
    np.testing.assert_array_equal(chosen.to_numpy(), data[1:3])


def test_zarr_in_16_plane_chunks_is_read_from_disk_once_plane_by_plane(tmp_path):
    """A 2D network reads a stack one tile of one plane at a time; an OME-Zarr written with
    16-plane chunks (as ours are) must not be decoded again for every plane and tile."""
    noise = np.random.default_rng(2).integers(0, 2**16, (37, 45, 51), dtype=np.uint16)
    path = write_stack(tmp_path / "deep.zarr", noise, axes="ZYX", kind="image")
    stored = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    stack = open_stack(path)
    stack.data[0, 0, 0]  # the first read imports codecs, whose files count as reads
    read = _bytes_read()
    for z in range(noise.shape[0]):
        for y in range(0, 45, 15):  # three tiles per plane
            np.testing.assert_array_equal(stack.data[z, y:y + 15], noise[z, y:y + 15])
    assert _bytes_read() - read < 1.5 * stored  # read through Zarr alone: ~50x the file
