"""napari's reader (ours) on a multi-page TIFF cut between pages: the same one-line message as
the CLI, naming the file and how many of its pages remain."""

from __future__ import annotations

import pytest
import tifffile

from unet_studio.app.errors import InputFileError
from unet_studio.plugins.io import napari_get_reader


def test_reader_says_how_many_pages_a_truncated_file_holds(tmp_path, test_data_dir):
    intact = tmp_path / "intact.tif"  # 3 pages (TYX), the layout of the full HeLa data set
    tifffile.imwrite(intact, tifffile.imread(test_data_dir / "io_hela_tyx.tif"), photometric="minisblack",
                     compression="zlib", metadata={"axes": "TYX"})
    with tifffile.TiffFile(intact) as tif:
        third_page = tif.pages[2].offset
    cut = tmp_path / "cut.tif"
    cut.write_bytes(intact.read_bytes()[:third_page])
    with pytest.raises(InputFileError) as caught:
        napari_get_reader(str(cut))(str(cut))
    assert str(caught.value) == f"{cut}: is truncated: it holds 2 of its 3 pages"
