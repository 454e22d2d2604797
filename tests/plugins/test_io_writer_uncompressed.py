"""napari's labels writer leaves a TIFF over ``output.COMPRESS_BELOW`` uncompressed, as the
CLI does (zlib of 1.5 GiB of labels held the window for 14.5 s), and a notification says so."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_studio.app.io import open_stack, output
from unet_studio.plugins.io import write_labels


def test_big_labels_are_saved_uncompressed_and_the_writer_says_so(tmp_path, monkeypatch):
    from napari.utils.notifications import notification_manager

    monkeypatch.setattr(output, "COMPRESS_BELOW", 1000)  # (the 1 GiB, scaled down)
    labels = np.zeros((40, 52), np.uint16)  # (4160 bytes)
    labels[5:20, 10:30] = 3
    start = len(notification_manager.records)
    for name, kept in (("big.tif", labels), ("small.tif", labels[:8])):  # (832 bytes)
        [written] = write_labels(str(tmp_path / name), kept, {})
        with tifffile.TiffFile(written) as tif:
            compression = tif.pages[0].compression
        assert (compression == tifffile.COMPRESSION.NONE) == (name == "big.tif")
        with open_stack(written) as back:
            assert back.metadata["kind"] == "labels"
            np.testing.assert_array_equal(back.to_numpy(), kept)
    said = [str(n.message) for n in notification_manager.records[start:]]
    assert said == ["big.tif left uncompressed (4.1 KiB > 1000 B): save it as .zarr for a "
                    "compressed file, or compress this TIFF afterwards"]
