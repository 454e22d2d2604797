"""Regenerate the fine-tuning test crops from the shared data set.

Source: ../shared/data/ctc_Fluo-N2DL-HeLa_02_5t_img.tif and ..._errseg.tif (Cell Tracking
Challenge Fluo-N2DL-HeLa, sequence 02, reference segmentation; see that folder's README).
Crop: frames 0 and 1 (T), rows 240:400 (Y), columns 240:400 (X) - a 160 x 160 field with
about a dozen nuclei, some close together.
Writes train_img.tif (uint16, TYX) and train_labels.tif (uint16, TYX), zlib-compressed.

    .venv/bin/python tests/data/make_train_data.py [SHARED_DATA_DIR]
"""

import sys
from pathlib import Path

import tifffile

HERE = Path(__file__).parent
CROP = (slice(0, 2), slice(240, 400), slice(240, 400))


def main(source: Path) -> None:
    for kind, name in (("img", "train_img.tif"), ("errseg", "train_labels.tif")):
        data = tifffile.imread(source / f"ctc_Fluo-N2DL-HeLa_02_5t_{kind}.tif")[CROP]
        tifffile.imwrite(HERE / name, data, compression="zlib", metadata={"axes": "TYX"},
                         imagej=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data")
