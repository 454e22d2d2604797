"""`unet-studio predict`: what the messages say about outputs (sizes, compression) and about
the options that cost or mean more than they seem (tile size, channel index)."""

from __future__ import annotations

import re

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


def image_file(folder, name="nuclei.tif", shape=(40, 52), axes="YX", **options):
    image = (np.random.default_rng(0).random(shape) * 4000).astype(np.uint16)
    return write_stack(folder / name, image, axes=axes, kind="image", **options)


def predict(source, target, model_dir, *flags) -> int:
    return main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--device", "cpu", *flags])


def test_a_tiff_too_big_to_compress_says_it_is_left_uncompressed(tmp_path, model_dir, capsys,
                                                                   monkeypatch):
    from unet_studio.app.io import output

    source = image_file(tmp_path)
    assert predict(source, tmp_path / "small.tif", model_dir) == 0
    assert "uncompressed" not in capsys.readouterr().err
    monkeypatch.setattr(output, "COMPRESS_BELOW", 1000)  # (40 x 52 uint16 labels: 4160 bytes)
    target = tmp_path / "big.tif"
    assert predict(source, target, model_dir) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "left uncompressed (4.1 KiB > 1000 B): write a .zarr output" in last
    with tifffile.TiffFile(target) as tif:
        assert tif.pages[0].compression == tifffile.COMPRESSION.NONE


def test_a_tile_much_smaller_than_the_halo_is_warned_about_with_its_cost(tmp_path, model_dir,
                                                                          capsys):
    """The tiny model's halo is 24 px (divisor 4): --tile 4 keeps 4 x 4 cores of 52 x 52
    windows, 13 x 18 of them over 100 x 120 pixels."""
    source = image_file(tmp_path, shape=(100, 120))
    assert predict(source, tmp_path / "small_tile.tif", model_dir, "--tile", "4") == 0
    error = capsys.readouterr().err
    warning = next(line for line in error.splitlines() if "--tile 4" in line)
    assert "much smaller than the model's halo (24 px" in warning
    assert f"compute {round(13 * 18 * 52 * 52 / (100 * 120))}x the image's pixels" in warning
    assert "234 tiles for nuclei (100 x 120)" in warning
    assert "use --tile 48 or more" in warning
    assert predict(source, tmp_path / "fine_tile.tif", model_dir, "--tile", "24") == 0
    assert "halo" not in capsys.readouterr().err


def test_a_full_disk_gives_the_output_size_in_readable_units(tmp_path, model_dir, capsys,
                                                             monkeypatch):
    import errno
    import os
    import shutil

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space, raising=False)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(
        10 * 2**30, 10 * 2**30 - 3 * 2**20, 3 * 2**20))  # (3 MiB free)
    source = image_file(tmp_path, shape=(100, 120))
    assert predict(source, tmp_path / "labels.tif", model_dir) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    # (the streamed TIFF: 100 x 120 int32 pixels and its OME header, about 50 KiB)
    assert re.search(rf"not enough disk space in {re.escape(str(tmp_path))} for the output "
                     r"labels.tif \(\d+\.\d KiB, 3\.0 MiB free\); free some space", error)


def test_labels_of_an_imagej_input_carry_the_pixel_size_in_the_tiff_tags_too(tmp_path,
                                                                             model_dir):
    """int32 labels in an OME-TIFF: the pixel size is in its OME XML and, for readers that
    ignore OME, in the resolution tags (pixels per centimetre)."""
    source = image_file(tmp_path, scale={"Y": 0.5, "X": 0.25})
    target = tmp_path / "labels.ome.tif"
    assert predict(source, target, model_dir) == 0
    with tifffile.TiffFile(target) as tif:
        assert tif.is_ome and 'PhysicalSizeX="0.25"' in tif.ome_metadata
        page = tif.pages[0]
        assert page.tags["ResolutionUnit"].value == tifffile.RESUNIT.CENTIMETER
        x_per_cm, y_per_cm = page.get_resolution()
    assert (x_per_cm, y_per_cm) == (40000, 20000)  # 1 cm / 0.25 µm, 1 cm / 0.5 µm


def test_a_channel_out_of_range_or_negative_is_refused_saying_how_channels_count(
        tmp_path, model_dir, capsys):
    source = image_file(tmp_path, shape=(2, 40, 52), axes="CYX")
    assert predict(source, tmp_path / "c2.tif", model_dir, "--channel", "2") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"unet-studio: error: --channel 2: {source} has 2 channels (0-1)"
    assert predict(source, tmp_path / "last.tif", model_dir, "--channel", "-1") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == "unet-studio: error: --channel counts from 0 (the first channel), got -1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuclei.tif"]
