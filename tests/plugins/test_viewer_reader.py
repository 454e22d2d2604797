"""The reader contribution inside a real napari viewer: metadata arrives, bad files are named."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def test_viewer_opens_an_imagej_stack_with_its_scale(make_napari_viewer, tmp_path):
    path = tmp_path / "stack.tif"
    data = np.arange(4 * 32 * 40, dtype=np.uint16).reshape(4, 32, 40)
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
                     metadata={"axes": "ZYX", "spacing": 2.0, "unit": "um"})
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="unet-studio")
    np.testing.assert_array_equal(np.asarray(layer.data), data)
    np.testing.assert_allclose(layer.scale, (2.0, 0.5, 0.5))


def test_viewer_reports_a_corrupt_file_by_name(make_napari_viewer, tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + b"\x00" * 60)  # a TIFF header pointing nowhere useful
    viewer = make_napari_viewer()
    with pytest.raises(Exception, match="broken.tif") as caught:
        viewer.open(str(path), plugin="unet-studio")
    assert len(viewer.layers) == 0
    assert "Traceback" not in str(caught.value)
