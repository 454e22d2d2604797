"""Regenerate the bundled sample stacks from the shared development data.

Run from the repository root: ``python resources/samples/make_samples.py /path/to/shared/data``.
The samples are crops of public data (see resources/samples/README.md for provenance):

* ``nuclei3d.tif``: the whole cells3d nuclei stack, 60x256x256 (ZYX), voxel 0.29x0.26x0.26 um.
* ``hela_timelapse.tif``: frames 3-4 of the Cell Tracking Challenge Fluo-N2DL-HeLa 02 sequence,
  cropped to 512x512 (TYX). Frames 0-2 are the default model's training frames, so the sample
  shows the model on frames it did not see.
"""

import sys
from pathlib import Path

import numpy as np
import tifffile

HERE = Path(__file__).parent


def write_imagej(path: Path, data: np.ndarray, axes: str, spacing_um: tuple[float, ...]) -> None:
    """Compressed ImageJ hyperstack with the physical pixel size in its metadata."""
    resolution = (1.0 / spacing_um[-1], 1.0 / spacing_um[-2])
    metadata = {"axes": axes, "unit": "um"}
    if "Z" in axes:
        metadata["spacing"] = spacing_um[0]
    tifffile.imwrite(
        path, data, imagej=True, resolution=resolution, metadata=metadata, compression="zlib"
    )


def main(shared: Path) -> None:
    nuclei = tifffile.imread(shared / "cells3d_nuclei3d_img.tif")
    write_imagej(HERE / "nuclei3d.tif", nuclei, "ZYX", (0.29, 0.26, 0.26))
    hela = tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_img.tif")[3:5, 94:606, 294:806]
    # The CTC data set gives no pixel size in the file; 0.645 um is the published value.
    write_imagej(HERE / "hela_timelapse.tif", hela, "TYX", (0.645, 0.645))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
