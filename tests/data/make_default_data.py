"""Regenerate the default-model test crops from the shared development data.

Run from the repository root: ``python tests/data/make_default_data.py [../shared/data]``.

* ``default_hela_f3_img.tif``: HeLa H2B-GFP (Cell Tracking Challenge Fluo-N2DL-HeLa 02),
  frame 3 - a frame the default model never trained on - crop [128:256, 576:704], uint16 (Y, X).
* ``default_hela_f3_labels.tif``: the reference segmentation of the same crop, uint16 (Y, X).
  Chosen because every visible nucleus in it, dim ones included, carries a label.
* ``default_hoechst_f8_img.tif`` / ``_labels.tif``: Hoechst scratch assay (ndev-sampledata),
  frame 8 (held out from training), crop [40:168, 0:256], uint16 (Y, X); 27 small nuclei
  (about 12 px across) with tight reference outlines.
* ``default_cells3d_labels.tif``: cells3d nuclei labels (Allen Institute), the held-out
  x >= 128 half, every second Z slice: uint16 (Z, Y, X) = (30, 256, 128), 14 nuclei.
"""

import sys
from pathlib import Path

import tifffile

HERE = Path(__file__).parent
HELA_CROP = (3, slice(128, 256), slice(576, 704))
HOECHST_CROP = (8, slice(40, 168), slice(0, 256))
CELLS3D_CROP = (slice(None, None, 2), slice(None), slice(128, None))


def _write(name: str, array) -> None:
    tifffile.imwrite(HERE / name, array, compression="zlib")


def main(shared: Path) -> None:
    _write("default_hela_f3_img.tif", tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_img.tif")[HELA_CROP])
    _write("default_hela_f3_labels.tif",
           tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif")[HELA_CROP])
    _write("default_hoechst_f8_img.tif",
           tifffile.imread(shared / "ndev_scratch_hoechst_10t_img.tif")[HOECHST_CROP])
    _write("default_hoechst_f8_labels.tif",
           tifffile.imread(shared / "ndev_scratch_hoechst_10t_nuclei_labels.tif")[HOECHST_CROP])
    _write("default_cells3d_labels.tif",
           tifffile.imread(shared / "cells3d_nuclei3d_labels.tif")[CELLS3D_CROP])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
