"""Regenerate the default-model test crop from the shared development data.

Run from the repository root: ``python tests/data/make_default_data.py [../shared/data]``.

* ``default_hela_f3_img.tif``: HeLa H2B-GFP (Cell Tracking Challenge Fluo-N2DL-HeLa 02),
  frame 3 - a frame the default model never trained on - crop [128:256, 576:704], uint16 (Y, X).
* ``default_hela_f3_labels.tif``: the reference segmentation of the same crop, uint16 (Y, X).
  Chosen because every visible nucleus in it, dim ones included, carries a label.
"""

import sys
from pathlib import Path

import tifffile

HERE = Path(__file__).parent
CROP = (3, slice(128, 256), slice(576, 704))


def main(shared: Path) -> None:
    image = tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_img.tif")[CROP]
    labels = tifffile.imread(shared / "ctc_Fluo-N2DL-HeLa_02_5t_errseg.tif")[CROP]
    tifffile.imwrite(HERE / "default_hela_f3_img.tif", image, compression="zlib")
    tifffile.imwrite(HERE / "default_hela_f3_labels.tif", labels, compression="zlib")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
