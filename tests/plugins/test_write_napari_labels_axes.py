"""Labels made with napari's own "new labels" button over a time series keep its T axis
when saved with our writer (the layer's axis labels name it; there is no metadata)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_new_labels_over_a_time_series_are_saved_with_their_t_axis(make_napari_viewer, tmp_path):
    from unet_studio.app.io import open_stack

    source = tmp_path / "series.tif"
    tifffile.imwrite(source, np.arange(3 * 16 * 20, dtype=np.uint16).reshape(3, 16, 20),
                     imagej=True, metadata={"axes": "TYX"})
    viewer = make_napari_viewer()
    viewer.open(str(source), plugin="unet-studio")
    viewer._new_labels()  # (the layer list's "new labels layer" button)
    labels = viewer.layers[-1]
    labels.paint((1, 8, 8), 4)
    viewer.layers.selection = {labels}
    [written] = viewer.layers.save(str(tmp_path / "painted.tif"), selected=True,
                                   plugin="unet-studio")
    back = open_stack(written)
    assert back.axes == "TYX"
    np.testing.assert_array_equal(back.to_numpy(), labels.data)
