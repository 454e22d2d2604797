"""Regenerate the io test crops (tests/data/io_*.tif) from the shared data set.

Run from the repository root: ``.venv/bin/python tests/data/make_io_data.py [SHARED_DATA_DIR]``
(default ``../shared/data``). Crops:

- ``io_hela_tyx.tif``: ``ctc_Fluo-N2DL-HeLa_02_5t_img.tif`` frames 0-2, rows 300-363,
  columns 500-595 -> (3, 64, 96) uint16, axes TYX, plain (tifffile "shaped") TIFF, zlib.
- ``io_nuclei3d_zyx.tif``: ``cells3d_nuclei3d_img.tif`` planes 26-33, rows 100-147,
  columns 100-147 -> (8, 48, 48) uint16, written as an ImageJ hyperstack with the voxel size
  the data set documents (Z 0.29, Y 0.26, X 0.26 micrometres), zlib.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tifffile

HERE = Path(__file__).parent


def main(shared: Path) -> None:
    hela = tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_img.tif")[0:3, 300:364, 500:596]
    tifffile.imwrite(HERE / "io_hela_tyx.tif", hela, compression="zlib", metadata={"axes": "TYX"})
    nuclei = tifffile.imread(shared / "cells3d_nuclei3d_img.tif")[26:34, 100:148, 100:148]
    tifffile.imwrite(HERE / "io_nuclei3d_zyx.tif", nuclei, imagej=True, compression="zlib",
                     resolution=(1 / 0.26, 1 / 0.26),
                     metadata={"axes": "ZYX", "unit": "micron", "spacing": 0.29})


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data")
