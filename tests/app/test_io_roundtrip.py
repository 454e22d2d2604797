"""Every format round-trips through tmp_path with pixels, axes and scale intact."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.errors import InputFileError
from unet_studio.app.io import open_output, open_stack, write_stack

SCALE = {"T": 30.0, "Z": 0.29, "Y": 0.26, "X": 0.25}


@pytest.fixture(scope="module")
def nuclei(test_data_dir) -> np.ndarray:
    """Real confocal nuclei, (8, 48, 48) ZYX uint16."""
    return tifffile.imread(test_data_dir / "io_nuclei3d_zyx.tif")


def _hyperstack(nuclei: np.ndarray) -> np.ndarray:
    """(T=2, Z=4, C=3, Y=48, X=40) built from real pixels, each index distinct."""
    planes = nuclei[:4, :, :40].astype(np.uint16)
    return np.stack([np.stack([planes + 100 * c + 1000 * t for c in range(3)], axis=1)
                     for t in range(2)])


def test_reads_imagej_calibration_of_real_crop(test_data_dir, nuclei):
    stack = open_stack(test_data_dir / "io_nuclei3d_zyx.tif")
    assert (stack.axes, stack.shape, stack.metadata["format"]) == ("ZYX", (8, 48, 48), "imagej")
    assert stack.scale == pytest.approx({"Z": 0.29, "Y": 0.26, "X": 0.26})
    assert set(stack.units.values()) == {"micrometer"}
    np.testing.assert_array_equal(stack.to_numpy(), nuclei)


def test_plain_tiff_roundtrip(tmp_path, test_data_dir):
    source = open_stack(test_data_dir / "io_hela_tyx.tif")
    assert source.axes == "TYX" and source.metadata["format"] == "tiff"
    assert source.units == {"T": "pixel", "Y": "pixel", "X": "pixel"}
    written = write_stack(tmp_path / "hela.tif", source.data, axes=source.axes, kind="image",
                          source=source.path)
    back = open_stack(written)
    assert (back.axes, back.dtype) == ("TYX", np.uint16)
    assert back.units == source.units  # unknown stays unknown
    np.testing.assert_array_equal(back.to_numpy(), source.to_numpy())
    untagged = tmp_path / "untagged.tif"
    tifffile.imwrite(untagged, source.to_numpy()[0])  # 2D, no metadata at all
    assert open_stack(untagged).axes == "YX"


def test_imagej_hyperstack_roundtrip(tmp_path, nuclei):
    data = _hyperstack(nuclei)
    path = write_stack(tmp_path / "stack.tif", data, axes="TZCYX", scale=SCALE, kind="image")
    back = open_stack(path)
    assert back.metadata["format"] == "imagej"
    assert (back.axes, back.shape) == ("TZCYX", data.shape)
    assert back.scale == pytest.approx({**SCALE, "C": 1.0})
    assert back.units == {"T": "second", "Z": "micrometer", "Y": "micrometer", "X": "micrometer"}
    np.testing.assert_array_equal(back.to_numpy(), data)
    with tifffile.TiffFile(path) as tif:  # what Fiji reads
        assert tif.imagej_metadata["spacing"] == pytest.approx(0.29)
        assert tif.imagej_metadata["channels"] == 3


def test_imagej_reorders_to_tzcyx(tmp_path, nuclei):
    data = _hyperstack(nuclei)[0]  # ZCYX
    as_czxy = data.transpose(1, 0, 3, 2)
    back = open_stack(write_stack(tmp_path / "o.tif", as_czxy, axes="CZXY", scale=SCALE, kind="image"))
    assert back.axes == "ZCYX"
    np.testing.assert_array_equal(back.to_numpy(), data)


def test_ome_tiff_keeps_order_and_large_labels(tmp_path, nuclei):
    labels = nuclei[:3].astype(np.int64) * 50  # values above 65535
    assert labels.max() > 65535
    two_channels = np.stack([labels, labels + 1])
    path = write_stack(tmp_path / "lab.ome.tif", two_channels, axes="CZYX", scale=SCALE)
    back = open_stack(path)
    assert back.metadata["format"] == "ome-tiff" and back.metadata["kind"] == "labels"
    # (the file keeps the order it was given; it is read in the canonical TZCYX order)
    assert back.metadata["stored_axes"] == "CZYX"
    assert back.axes == "ZCYX" and back.dtype == np.uint32
    assert back.scale == pytest.approx({"C": 1.0, "Z": 0.29, "Y": 0.26, "X": 0.25})
    np.testing.assert_array_equal(back.to_numpy(), two_channels.transpose(1, 0, 2, 3))
    big_in_tif = open_stack(write_stack(tmp_path / "lab.tif", labels, axes="ZYX"))
    assert big_in_tif.metadata["format"] == "ome-tiff"  # ImageJ cannot hold uint32


def test_external_ome_units_are_converted(tmp_path):
    path = tmp_path / "nm.ome.tif"
    tifffile.imwrite(path, np.zeros((2, 8, 8), np.uint8), ome=True, metadata={
        "axes": "ZYX", "PhysicalSizeX": 130.0, "PhysicalSizeXUnit": "nm",
        "PhysicalSizeY": 130.0, "PhysicalSizeYUnit": "nm", "PhysicalSizeZ": 0.5})
    stack = open_stack(path)
    assert stack.scale == pytest.approx({"Z": 0.5, "Y": 0.13, "X": 0.13})


def test_ome_zarr_pyramid_roundtrip(tmp_path, nuclei):
    data = np.tile(nuclei, (1, 3, 3))[:, :130, :141]  # (8, 130, 141)
    path = write_stack(tmp_path / "n.ome.zarr", data, axes="ZYX", scale=SCALE, kind="image",
                       pyramid_levels=3)
    back = open_stack(path)
    assert (back.axes, back.name, back.metadata["format"]) == ("ZYX", "n", "ome-zarr")
    assert back.scale == pytest.approx({"Z": 0.29, "Y": 0.26, "X": 0.25})
    assert [level.shape for level in back.levels] == [(8, 130, 141), (8, 65, 71), (8, 33, 36)]
    np.testing.assert_array_equal(back.to_numpy(), data)
    np.testing.assert_array_equal(np.asarray(back.levels[1]), data[:, ::2, ::2])
    np.testing.assert_array_equal(back.data[3, 10:20, 5], data[3, 10:20, 5])


def test_ome_zarr_reorders_to_tczyx(tmp_path, nuclei):
    data = _hyperstack(nuclei)[:, :, :2]  # TZCYX
    back = open_stack(write_stack(tmp_path / "h.zarr", data, axes="TZCYX", scale=SCALE))
    # (stored in NGFF's TCZYX order, read in the canonical TZCYX order)
    assert back.metadata["stored_axes"] == "TCZYX" and back.metadata["kind"] == "labels"
    assert back.axes == "TZCYX"
    np.testing.assert_array_equal(back.to_numpy(), data)


def test_folder_and_glob_of_2d_tiffs(tmp_path, nuclei):
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in (1, 2, 10):  # natural order: 1, 2, 10 (not 1, 10, 2)
        tifffile.imwrite(folder / f"slice_{index}.tif", nuclei[index % 8], compression="zlib")
    (folder / "notes.txt").write_text("ignored")
    stack = open_stack(folder)
    assert (stack.axes, stack.shape, stack.metadata["axes_source"]) == ("ZYX", (3, 48, 48), "guessed")
    np.testing.assert_array_equal(stack.data[2], nuclei[2])
    np.testing.assert_array_equal(stack.to_numpy(), nuclei[[1, 2, 2]])
    by_glob = open_stack(str(folder / "slice_1*.tif"), axes="TYX")
    assert by_glob.axes == "TYX" and by_glob.shape == (2, 48, 48)
    np.testing.assert_array_equal(by_glob.data[1, :5, :5], nuclei[2, :5, :5])


def test_open_output_tiff_streams_then_compresses(tmp_path, test_data_dir):
    source = test_data_dir / "io_nuclei3d_zyx.tif"
    with open_output(tmp_path / "lab.tif", (8, 48, 48), np.uint16, axes="ZYX", source=source) as out:
        out[2:4, 10:20, :] = 7
        assert not (tmp_path / "lab.tif").exists()  # nothing visible before a clean exit
    back = open_stack(tmp_path / "lab.tif")
    assert back.metadata["compression"] != "none" and back.metadata["kind"] == "labels"
    assert back.scale == pytest.approx({"Z": 0.29, "Y": 0.26, "X": 0.26})
    assert int(back.to_numpy().sum()) == 7 * 2 * 10 * 48
    assert [p.name for p in tmp_path.iterdir()] == ["lab.tif"]


@pytest.mark.parametrize("axes,shape", [("TYX", (1, 20, 24)), ("ZYX", (1, 20, 24)),
                                         ("TZYX", (2, 1, 20, 24)), ("TZYX", (1, 3, 20, 24))])
def test_open_output_tiff_keeps_axes_of_length_one(tmp_path, axes, shape):
    """One time point, one slice: the streamed file is compressed with every axis (tifffile
    maps such a file back without its length-1 axes), and reads back with them (ImageJ and
    OME metadata do not tell one time point from none: our tag records the axes)."""
    values = np.arange(np.prod(shape), dtype=np.uint16).reshape(shape)
    for compress_below in (1 << 40, 0):  # (compressed, and kept as streamed)
        path = tmp_path / f"{compress_below}.tif"
        with open_output(path, shape, np.uint16, axes=axes, compress_below=compress_below) as out:
            out[...] = values
        with open_stack(path) as back:
            assert back.axes == axes and back.shape == shape
            np.testing.assert_array_equal(back.to_numpy(), values)
            np.testing.assert_array_equal(back.data[..., 2:5], values[..., 2:5])  # a part, lazily
    other = tmp_path / "other.tif"  # a file from elsewhere: its own axes, as they are
    tifffile.imwrite(other, values, metadata={"axes": axes}, imagej=True)
    with open_stack(other) as back:
        assert back.axes == "".join(a for a, n in zip(axes, shape) if n > 1)


def test_open_output_zarr_in_caller_order_and_failure_leaves_nothing(tmp_path):
    with open_output(tmp_path / "p.zarr", (30, 20, 2), np.float32, axes="YXC") as out:
        out[5:10, :, 1] = 0.5
        out[0, 0] = [0.25, 0.75]
    back = open_stack(tmp_path / "p.zarr")
    assert back.axes == "CYX" and back.metadata["kind"] == "probabilities"
    assert back.data[1, 5:10].min() == 0.5 and tuple(back.data[:, 0, 0]) == (0.25, 0.75)
    with pytest.raises(RuntimeError, match="boom"):
        with open_output(tmp_path / "fail.tif", (4, 4), np.uint8, axes="YX") as out:
            out[:] = 1
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zarr"]


def _io_counter(name: str) -> int:
    """Bytes this process has passed to read()/write() calls so far (Linux /proc/self/io)."""
    with open("/proc/self/io") as handle:
        return int(next(line for line in handle if line.startswith(name)).split()[1])


def test_open_output_zarr_compresses_each_chunk_once(tmp_path):
    """Tiles smaller than a chunk (one plane of a 16-plane chunk, a band of rows) are each
    written once into the Zarr at the end, not merged into compressed chunks tile by tile
    (which wrote ~30x the file here), and the pyramid holds every other pixel."""
    noise = np.random.default_rng(5).integers(0, 255, (20, 300, 1100), dtype=np.uint8)
    path = tmp_path / "tiles.zarr"
    written = _io_counter("wchar")
    with open_output(path, noise.shape, np.uint8, axes="ZYX", kind="image") as out:
        for z in range(noise.shape[0]):
            for y in range(0, 300, 100):
                out[z, y:y + 100] = noise[z, y:y + 100]
    written = _io_counter("wchar") - written
    files = [p for p in path.rglob("*") if p.is_file()]
    assert written < 1.2 * sum(p.stat().st_size for p in files)
    assert isinstance(out, np.memmap)  # so that the engine's page releaser bounds its RSS
    assert not [p for p in files if "staging" in p.name]
    with open_stack(path) as back:
        assert back.axes == "ZYX" and back.metadata["kind"] == "image"
        assert back.metadata["level_shapes"] == [(20, 300, 1100), (20, 150, 550)]
        np.testing.assert_array_equal(back.to_numpy(), noise)
        np.testing.assert_array_equal(np.asarray(back.levels[1]), noise[:, ::2, ::2])


@pytest.mark.parametrize("interruption", [RuntimeError("boom"), KeyboardInterrupt()])
def test_open_output_zarr_interrupted_leaves_nothing(tmp_path, interruption):
    with pytest.raises(type(interruption)):
        with open_output(tmp_path / "cut.zarr", (20, 64, 64), np.uint16, axes="ZYX") as out:
            out[:3] = 7
            raise interruption
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_zarr_is_compressed_stops_between_slabs_and_leaves_nothing(
        tmp_path, monkeypatch):
    """Zarr writes chunks from its own thread, which Ctrl-C does not stop: the interruption
    waits for the slab in flight, so that no chunk lands in the folder after its removal."""
    import _thread
    import time

    from unet_studio.app.io import zarr_write

    slabs = []

    def slabs_then_ctrl_c(*args, **kwargs):
        for region in original(*args, **kwargs):
            slabs.append(region)
            if len(slabs) == 3:
                _thread.interrupt_main()  # as Ctrl-C would, while the Zarr is being written
            yield region

    original = zarr_write.iter_slabs
    monkeypatch.setattr(zarr_write, "iter_slabs", slabs_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        with open_output(tmp_path / "big.zarr", (40, 256, 256), np.uint8, axes="ZYX") as out:
            out[...] = 1
    assert 3 <= len(slabs) <= 4  # the slab in flight finished, no other was started
    time.sleep(0.2)  # (a chunk still in flight would show up now)
    assert list(tmp_path.iterdir()) == []


def test_write_stack_zarr_pyramid_of_a_lazy_stack(tmp_path, nuclei):
    """A lazy input (an OME-Zarr) written again as a 3-level pyramid, slab by slab."""
    data = np.tile(nuclei, (3, 11, 23))[:, :500, :1050]  # (24, 500, 1050)
    with open_stack(write_stack(tmp_path / "in.zarr", data, axes="ZYX", kind="image")) as source:
        written = write_stack(tmp_path / "out.zarr", source.data, axes="ZYX", kind="image",
                              pyramid_levels=3)
    with open_stack(written) as back:
        for level, factor in zip(back.levels, (1, 2, 4)):
            np.testing.assert_array_equal(np.asarray(level), data[:, ::factor, ::factor])


def test_write_kinds_and_refusals(tmp_path, test_data_dir):
    mask = open_stack(write_stack(tmp_path / "m.tif", np.eye(5, dtype=bool) * 3, axes="YX", kind="mask"))
    assert mask.dtype == np.uint8 and set(np.unique(mask.to_numpy())) == {0, 1}
    probabilities = open_stack(write_stack(tmp_path / "p.tif", np.ones((3, 4), np.float64) / 3,
                                           axes="YX", kind="probabilities"))
    assert probabilities.dtype == np.float32
    with pytest.raises(ValueError, match="non-negative"):
        write_stack(tmp_path / "neg.tif", -np.ones((3, 3), np.int32), axes="YX")
    source = tmp_path / "copy.tif"
    source.write_bytes((test_data_dir / "io_hela_tyx.tif").read_bytes())
    with pytest.raises(InputFileError, match="input image"):
        write_stack(source, np.zeros((3, 64, 96), np.uint16), axes="TYX", source=source)
    assert source.read_bytes() == (test_data_dir / "io_hela_tyx.tif").read_bytes()
    with pytest.raises(InputFileError, match="suffix"):
        write_stack(tmp_path / "x.png", np.zeros((3, 3), np.uint8), axes="YX")


def test_user_axes_override_and_validation(test_data_dir):
    stack = open_stack(test_data_dir / "io_nuclei3d_zyx.tif", axes="tyx")
    assert stack.axes == "TYX" and stack.metadata["axes_source"] == "user"
    assert stack.scale["Y"] == pytest.approx(0.26) and stack.units["T"] == "pixel"
    for bad, message in (("ZY", "2 letters"), ("ZQX", "allowed letters"), ("ZZX", "repeat"),
                         ("TZC", "without both Y and X")):
        with pytest.raises(InputFileError, match=message):
            open_stack(test_data_dir / "io_nuclei3d_zyx.tif", axes=bad)


def test_untagged_multipage_axes_are_guessed(tmp_path, nuclei):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as writer:  # separate pages, no shape metadata
        for plane in nuclei[:3]:
            writer.write(plane, metadata=None, contiguous=False)
    stack = open_stack(path)
    assert stack.axes == "ZYX" and stack.metadata["axes_source"] == "guessed"
    np.testing.assert_array_equal(stack.to_numpy(), nuclei[:3])


def test_reads_ome_zarr_0_5_layout(tmp_path):
    """NGFF 0.5: Zarr format 3, metadata under "ome", units converted to micrometres."""
    import zarr

    data = np.arange(2 * 6 * 8, dtype=np.uint8).reshape(2, 6, 8)
    group = zarr.open_group(str(tmp_path / "v5.zarr"), mode="w", zarr_format=3)
    group.create_array("s0", shape=data.shape, dtype=data.dtype)[:] = data
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "nanometer"},
                 {"name": "x", "type": "space", "unit": "nanometer"}],
        "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1, 200, 250]}]}],
    }]}
    stack = open_stack(tmp_path / "v5.zarr")
    assert stack.axes == "CYX" and stack.scale == pytest.approx({"C": 1.0, "Y": 0.2, "X": 0.25})
    np.testing.assert_array_equal(stack.to_numpy(), data)


def test_reads_ome_zarr_0_2_without_axes(tmp_path):
    """NGFF 0.1-0.2 name no axes (their arrays are t, c, z, y, x from the end): guessed so,
    and --axes can say otherwise."""
    import zarr

    data = np.arange(3 * 6 * 8, dtype=np.uint16).reshape(3, 6, 8)
    group = zarr.open_group(str(tmp_path / "v2.zarr"), mode="w", zarr_format=2)
    group.create_array("0", shape=data.shape, dtype=data.dtype)[:] = data
    group.attrs["multiscales"] = [{"version": "0.2", "datasets": [{"path": "0"}]}]
    stack = open_stack(tmp_path / "v2.zarr")
    assert stack.axes == "ZYX" and stack.metadata["axes_source"] == "guessed"
    np.testing.assert_array_equal(stack.to_numpy(), data)
    assert open_stack(tmp_path / "v2.zarr", axes="TYX").axes == "TYX"


def test_memory_mapped_to_numpy_is_a_writable_copy(tmp_path):
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, np.ones((3, 4), np.uint16), imagej=True)
    stack = open_stack(path)
    assert isinstance(stack.data, np.memmap) and not stack.data.flags.writeable
    pixels = stack.to_numpy()
    pixels += 1  # consumers normalise in place
    assert int(stack.data.max()) == 1 and int(pixels.max()) == 2


def test_pyramidal_ome_tiff_lists_its_levels(tmp_path, nuclei):
    plane = np.tile(nuclei[0], (4, 4))  # (192, 192)
    path = tmp_path / "pyramid.ome.tif"
    with tifffile.TiffWriter(path) as writer:
        options = {"compression": "zlib", "tile": (64, 64)}
        writer.write(plane, subifds=2, metadata={"axes": "YX", "PhysicalSizeX": 0.3,
                                                 "PhysicalSizeY": 0.3}, **options)
        writer.write(plane[::2, ::2], subfiletype=1, **options)
        writer.write(plane[::4, ::4], subfiletype=1, **options)
    stack = open_stack(path)
    assert [level.shape for level in stack.levels] == [(192, 192), (96, 96), (48, 48)]
    assert stack.levels[0] is stack.data and stack.scale == pytest.approx({"Y": 0.3, "X": 0.3})
    np.testing.assert_array_equal(np.asarray(stack.levels[2]), plane[::4, ::4])
