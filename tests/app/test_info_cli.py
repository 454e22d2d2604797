"""`unet-studio info`: fields from metadata, one-line errors with exit code 2 (as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from unet_studio.app.io import write_stack


def _info(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unet_studio", "info", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_info_prints_fields_of_each_file_and_fails_for_a_bad_one(tmp_path, test_data_dir):
    pyramid = write_stack(tmp_path / "labels.zarr", np.zeros((2, 40, 30), np.uint16), axes="ZYX",
                          scale={"Z": 1.5, "Y": 0.2, "X": 0.2}, pyramid_levels=2)
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = _info(test_data_dir / "io_nuclei3d_zyx.tif", pyramid, broken)
    assert result.returncode == 2
    out = result.stdout
    for expected in ("io_nuclei3d_zyx.tif", "format:       imagej", "shape:        8 x 48 x 48",
                     "axes:         ZYX", "dtype:        uint16",
                     "pixel sizes:  Z 0.29 µm, Y 0.26 µm, X 0.26 µm", "size on disk: 29.6 KiB",
                     "opens lazily: yes", "pyramid:      2 levels (2x40x30, 2x20x15)",
                     "content:      labels"):
        assert expected in out, out
    assert result.stderr.startswith(f"unet-studio: error: {broken}: is not a readable PNG image")
    assert len(result.stderr.splitlines()) == 1


def test_info_single_bad_file_is_one_line_exit_2(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.touch()
    result = _info(empty)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"unet-studio: error: {empty}: is empty (0 bytes)\n"


def test_info_guessed_axes_and_override(tmp_path, capsys):
    """In-process through the CLI entry point (the subprocess path is covered above)."""
    from unet_studio.app.cli import main

    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as writer:
        for _ in range(3):
            writer.write(np.zeros((5, 6), np.uint8), metadata=None, contiguous=False)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "axes:         ZYX  (guessed" in out and "Z unknown, Y unknown, X unknown" in out
    assert main(["info", str(path), "--axes", "TYX"]) == 0
    assert "axes:         TYX  (set by --axes)" in capsys.readouterr().out
    assert main(["info", str(path), "--axes", "YX"]) == 2
    assert "have 2 letters but the image has 3 dimensions" in capsys.readouterr().err


def test_info_says_when_the_file_stores_another_axis_order(tmp_path, capsys):
    """A ZTYX OME-TIFF is shown (and segmented) T Z Y X: info says how the file stores it."""
    from unet_studio.app.cli import main

    path = tmp_path / "ztyx.ome.tif"
    tifffile.imwrite(path, np.zeros((2, 3, 5, 6), np.uint8), ome=True, metadata={"axes": "ZTYX"})
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "shape:        3 x 2 x 5 x 6" in out
    assert "axes:         TZYX  (stored ZTYX in the file)" in out


def test_info_of_a_planar_colour_file_read_as_time_points(tmp_path, capsys):
    """Three planes stored as planar RGB, read with --axes TYX: no colour note about "0
    samples per pixel" (the samples are time points now); without --axes the colours."""
    from unet_studio.app.cli import main

    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.zeros((3, 5, 6), np.uint16), photometric="rgb", planarconfig="separate")
    assert main(["info", str(path)]) == 0
    assert "RGB(A) colours as channels C" in capsys.readouterr().out
    assert main(["info", str(path), "--axes", "TYX"]) == 0
    out = capsys.readouterr().out
    assert "axes:         TYX" in out and "samples per pixel" not in out
